import { badRequest, invalid } from '../../api/status.ts';

/**
 * applyPatch applies the three patch formats of the Kubernetes API: JSON merge patch (RFC 7386), JSON patch
 * (RFC 6902) and strategic merge patch, whose lists merge by the key upstream declares for them (containers by name,
 * service ports by port...) and which honours `$patch`, `$setElementOrder/<list>`, `$retainKeys` and
 * `$deleteFromPrimitiveList/<list>`. The original is not modified.
 */
export function applyPatch(contentType: string, kind: string, original: any, patch: any): any {
  switch (contentType) {
    case 'application/merge-patch+json':
      return mergePatch(original, patch);
    case 'application/json-patch+json':
      return jsonPatch(original, patch, kind);
    case 'application/strategic-merge-patch+json':
      return strategicMerge(original, patch, []);
    default:
      throw badRequest(`unsupported patch type: ${contentType}`);
  }
}

/**
 * applyServerSideApply merges an applied configuration over the live object the way server-side apply does for a
 * single manager: fields in the configuration win, lists merge by their keys, other fields stay.
 */
export function applyServerSideApply(_kind: string, original: any | undefined, applied: any): any {
  if (original === undefined) return structuredClone(applied);
  return strategicMerge(original, applied, []);
}

function isObject(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** mergePatch is RFC 7386: null deletes, objects recurse, everything else replaces. */
export function mergePatch(target: any, patch: any): any {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, any> = isObject(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** MERGE_KEYS: list path (field names joined by '.', '*' for any) → the key its items merge on. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  'containers.ports': 'containerPort',
  'initContainers.ports': 'containerPort',
  'containers.env': 'name',
  'initContainers.env': 'name',
  'containers.volumeMounts': 'mountPath',
  'initContainers.volumeMounts': 'mountPath',
  'containers.volumeDevices': 'devicePath',
  'containers.resizePolicy': 'resourceName',
  volumes: 'name',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  readinessGates: 'conditionType',
  conditions: 'type',
  ownerReferences: 'uid',
  'spec.ports': 'port',
  addresses: 'type',
  images: 'names',
  taints: 'key',
  podCIDRs: '',
  finalizers: '',
};

/** SET_LISTS are primitive lists that merge as sets rather than being replaced. */
const SET_LISTS = new Set(['finalizers', 'podCIDRs', 'metadata.finalizers']);

function mergeKey(path: string[]): string | undefined {
  const last = path[path.length - 1]!;
  const parent = path.length > 1 ? path[path.length - 2] : undefined;
  if (last === 'ports' && path.includes('spec') && !path.includes('containers') && !path.includes('initContainers') && !path.includes('template')) return 'port';
  if (parent && MERGE_KEYS[`${parent}.${last}`] !== undefined) return MERGE_KEYS[`${parent}.${last}`] || undefined;
  if (MERGE_KEYS[last] !== undefined) return MERGE_KEYS[last] || undefined;
  return undefined;
}

/** strategicMerge applies a strategic merge patch; path is the field path so far (for merge keys). */
function strategicMerge(original: any, patch: any, path: string[]): any {
  if (!isObject(patch)) return structuredClone(patch);
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const out: Record<string, any> = isObject(original) ? structuredClone(original) : {};
  const orders: Record<string, any[]> = {};
  const deletions: Record<string, any[]> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$setElementOrder/')) orders[k.slice('$setElementOrder/'.length)] = v as any[];
    else if (k.startsWith('$deleteFromPrimitiveList/')) deletions[k.slice('$deleteFromPrimitiveList/'.length)] = v as any[];
  }
  if (Array.isArray(patch.$retainKeys)) {
    for (const k of Object.keys(out)) if (!patch.$retainKeys.includes(k)) delete out[k];
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    const childPath = [...path, k];
    if (v === null) {
      delete out[k];
    } else if (Array.isArray(v)) {
      out[k] = mergeList(out[k], v, childPath);
    } else if (isObject(v)) {
      const merged = strategicMerge(out[k], v, childPath);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else {
      out[k] = v;
    }
  }
  for (const [k, values] of Object.entries(deletions)) {
    if (Array.isArray(out[k])) out[k] = out[k].filter((x: unknown) => !values.includes(x));
  }
  for (const [k, order] of Object.entries(orders)) {
    if (Array.isArray(out[k])) out[k] = reorder(out[k], order, mergeKey([...path, k]));
  }
  return out;
}

function mergeList(original: any, patch: any[], path: string[]): any[] {
  const key = mergeKey(path);
  const fieldName = path.slice(-2).join('.');
  if (key === undefined) {
    if (SET_LISTS.has(path[path.length - 1]!) || SET_LISTS.has(fieldName)) {
      const base: any[] = Array.isArray(original) ? [...original] : [];
      for (const item of patch) if (!base.includes(item)) base.push(item);
      return base;
    }
    return stripDirectives(patch);
  }
  const out: any[] = Array.isArray(original) ? structuredClone(original) : [];
  if (patch.some((p) => isObject(p) && p.$patch === 'replace')) {
    return stripDirectives(patch.filter((p) => !(isObject(p) && p.$patch === 'replace')));
  }
  for (const item of patch) {
    if (!isObject(item)) continue;
    const index = out.findIndex((o) => isObject(o) && o[key] === item[key]);
    if (item.$patch === 'delete') {
      if (index !== -1) out.splice(index, 1);
      continue;
    }
    if (index === -1) out.push(stripDirectives(item));
    else out[index] = strategicMerge(out[index], item, path);
  }
  return out;
}

function reorder(list: any[], order: any[], key: string | undefined): any[] {
  const id = (x: any) => (key && isObject(x) ? x[key] : x);
  const position = new Map(order.map((o, i) => [JSON.stringify(id(o)), i]));
  const ordered = list.filter((x) => position.has(JSON.stringify(id(x)))).sort((a, b) => position.get(JSON.stringify(id(a)))! - position.get(JSON.stringify(id(b)))!);
  const rest = list.filter((x) => !position.has(JSON.stringify(id(x))));
  return [...ordered, ...rest];
}

function stripDirectives(value: any): any {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  const out: Record<string, any> = {};
  for (const [k, v] of Object.entries(value)) if (!k.startsWith('$')) out[k] = stripDirectives(v);
  return out;
}

/** jsonPatch is RFC 6902 with add, remove, replace, move, copy and test. */
function jsonPatch(original: any, ops: any, kind: string): any {
  if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = structuredClone(original);
  for (const op of ops) {
    const path = parsePointer(op.path);
    switch (op.op) {
      case 'add':
        doc = setAt(doc, path, structuredClone(op.value), 'add');
        break;
      case 'remove':
        getAt(doc, path, op.path);
        doc = setAt(doc, path, undefined, 'remove');
        break;
      case 'replace':
        getAt(doc, path, op.path);
        doc = setAt(doc, path, structuredClone(op.value), 'replace');
        break;
      case 'move': {
        const from = parsePointer(op.from);
        const value = getAt(doc, from, op.from);
        doc = setAt(doc, from, undefined, 'remove');
        doc = setAt(doc, path, value, 'add');
        break;
      }
      case 'copy':
        doc = setAt(doc, path, structuredClone(getAt(doc, parsePointer(op.from), op.from)), 'add');
        break;
      case 'test':
        if (JSON.stringify(getAt(doc, path, op.path)) !== JSON.stringify(op.value)) {
          throw invalid({ group: '', kind }, original?.metadata?.name ?? '', [{ reason: 'FieldValueInvalid', message: `the server rejected our request due to an error in our request: testing value ${op.path} failed` }]);
        }
        break;
      default:
        throw badRequest(`Unexpected kind: ${op.op}`);
    }
  }
  return doc;
}

function parsePointer(pointer: unknown): string[] {
  if (typeof pointer !== 'string' || (pointer !== '' && !pointer.startsWith('/'))) throw badRequest(`invalid JSON pointer: ${String(pointer)}`);
  return pointer === '' ? [] : pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function getAt(doc: any, path: string[], text: string): any {
  let cur = doc;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object' || !(p in cur)) throw badRequest(`the server rejected our request due to an error in our request: doc is missing path: "${text}": missing value`);
    cur = cur[p];
  }
  return cur;
}

function setAt(doc: any, path: string[], value: any, mode: 'add' | 'remove' | 'replace'): any {
  if (path.length === 0) return value;
  const parent = getAt(doc, path.slice(0, -1), '/' + path.slice(0, -1).join('/'));
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(index) || index < 0 || index > parent.length) throw badRequest(`the server rejected our request due to an error in our request: invalid array index ${last}`);
    if (mode === 'add') parent.splice(index, 0, value);
    else if (mode === 'remove') parent.splice(index, 1);
    else parent[index] = value;
  } else if (parent !== null && typeof parent === 'object') {
    if (mode === 'remove') delete parent[last];
    else parent[last] = value;
  } else {
    throw badRequest('the server rejected our request due to an error in our request: parent is not a container');
  }
  return doc;
}
