import { parseAllDocuments } from 'yaml';

/**
 * readManifests collects Services, EndpointSlices and the Node from YAML text (multi-document, or `kind: List`),
 * for `tskube proxy render`, which needs no API server.
 */
export function readManifests(texts: readonly string[]): { services: any[]; endpointSlices: any[]; nodes: any[] } {
  const out = { services: [] as any[], endpointSlices: [] as any[], nodes: [] as any[] };
  const visit = (object: any) => {
    if (!object || typeof object !== 'object') return;
    if (object.kind === 'List' || Array.isArray(object.items)) {
      for (const item of object.items ?? []) visit(item);
      return;
    }
    object.metadata ??= {};
    if (object.kind === 'Service') {
      object.metadata.namespace ??= 'default';
      out.services.push(object);
    } else if (object.kind === 'EndpointSlice') {
      object.metadata.namespace ??= 'default';
      out.endpointSlices.push(object);
    } else if (object.kind === 'Node') out.nodes.push(object);
  };
  for (const text of texts) {
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) throw new SyntaxError(`Cannot parse YAML: ${doc.errors[0]!.message}`);
      visit(doc.toJS());
    }
  }
  return out;
}
