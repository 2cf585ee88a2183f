import type { Node, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import { parseAllDocuments } from 'yaml';

/** Manifests are the objects `tskube proxy render` reads: Services and EndpointSlices (namespace set), Nodes. */
export interface Manifests {
  services: Service[];
  endpointSlices: EndpointSlice[];
  nodes: Node[];
}

/** A decoded YAML document, before its kind is known. */
interface Document {
  kind?: unknown;
  items?: unknown;
  metadata?: ObjectMeta;
}

/**
 * readManifests collects Services, EndpointSlices and the Node from YAML text (multi-document, or `kind: List`),
 * for `tskube proxy render`, which needs no API server.
 */
export function readManifests(texts: readonly string[]): Manifests {
  const out: Manifests = { services: [], endpointSlices: [], nodes: [] };
  const visit = (value: unknown) => {
    if (!value || typeof value !== 'object') return;
    const object = value as Document;
    if (object.kind === 'List' || Array.isArray(object.items)) {
      for (const item of Array.isArray(object.items) ? object.items : []) visit(item);
      return;
    }
    object.metadata ??= {};
    // The kind names the shape; fields are read defensively downstream (buildServicePorts), not validated here.
    if (object.kind === 'Service') {
      object.metadata.namespace ??= 'default';
      out.services.push(object as Service);
    } else if (object.kind === 'EndpointSlice') {
      object.metadata.namespace ??= 'default';
      out.endpointSlices.push(object as EndpointSlice);
    } else if (object.kind === 'Node') out.nodes.push(object as Node);
  };
  for (const text of texts) {
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) throw new SyntaxError(`Cannot parse YAML: ${doc.errors[0]!.message}`);
      visit(doc.toJS());
    }
  }
  return out;
}
