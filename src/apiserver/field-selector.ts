import { getOwn } from '../api/own-properties.ts';
import { badRequest } from '../api/status.ts';

/**
 * Field selectors as the API server supports them for the served kinds: `metadata.name`, `metadata.namespace`,
 * `spec.nodeName`, `status.phase`, `involvedObject.*`, and a few more per kind, with `=`, `==` and `!=`.
 */
export interface FieldRequirement {
  field: string;
  value: string;
  negate: boolean;
}

const SUPPORTED: Record<string, readonly string[]> = {
  pods: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  events: [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  nodes: ['spec.unschedulable'],
  namespaces: ['status.phase'],
  services: ['spec.clusterIP', 'spec.type'],
  replicasets: ['status.replicas'],
};

/** parseFieldSelector reads a field selector for a resource; unsupported fields are a 400 like upstream's. */
export function parseFieldSelector(text: string, resource: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  for (const term of text.split(',')) {
    if (term.trim() === '') continue;
    const m = term.match(/^\s*([^=!\s]+)\s*(==|=|!=)\s*(.*?)\s*$/);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const field = m[1]!;
    if (field !== 'metadata.name' && field !== 'metadata.namespace' && !(SUPPORTED[resource] ?? []).includes(field)) {
      throw badRequest(`field label not supported: ${field}`);
    }
    out.push({ field, value: m[3]!, negate: m[2] === '!=' });
  }
  return out;
}

/** matchesFields tells whether an object satisfies every requirement. */
export function matchesFields(requirements: readonly FieldRequirement[], object: unknown): boolean {
  for (const r of requirements) {
    const actual = fieldValue(object, r.field);
    if ((actual === r.value) === r.negate) return false;
  }
  return true;
}

function fieldValue(object: unknown, field: string): string {
  if (field === 'source') {
    const component = getOwn(getOwn(object, 'source'), 'component');
    return typeof component === 'string' ? component : '';
  }
  let value = object;
  for (const part of field.split('.')) value = getOwn(value, part);
  if (value === undefined || value === null) return field === 'spec.unschedulable' ? 'false' : '';
  return String(value);
}
