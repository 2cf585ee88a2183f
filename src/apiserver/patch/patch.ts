import { getOwn, hasOwn, isPlainObject as isObject, type JsonObject, setOwn } from '../../api/own-properties.ts';
import {
  elementMessage,
  isScalar,
  jsonField,
  kindSchema,
  schemaKinds,
  type FieldSchema,
  type MessageSchema,
} from '../../api/schema/schema.ts';
import { badRequest, requestEntityTooLargeMessage, unprocessable } from '../../api/status.ts';

/** MAX_JSON_PATCH_OPERATIONS is upstream's cap on the operations of one JSON patch. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;
/** MAX_COPY_BYTES caps how much a JSON patch's copy operations may add, as upstream's JSONPatchMaxCopyBytes (3 MiB). */
export const MAX_COPY_BYTES = 3 * 1024 * 1024;

/**
 * applyPatch applies the three patch formats of the Kubernetes API: JSON merge patch (RFC 7386), JSON patch
 * (RFC 6902) and strategic merge patch, whose lists merge by the key upstream declares for them (containers by name,
 * service ports by port...) and which honours `$patch`, `$setElementOrder/<list>`, `$retainKeys` and
 * `$deleteFromPrimitiveList/<list>`. The original is not modified.
 */
export function applyPatch(contentType: string, kind: string, original: unknown, patch: unknown): unknown {
  switch (contentType) {
    case 'application/merge-patch+json':
      // Upstream's merge patch library refuses anything but an object ("Invalid JSON Patch").
      if (!isObject(patch)) throw badRequest('Invalid JSON Patch');
      return mergePatch(original, patch);
    case 'application/json-patch+json':
      return jsonPatch(original, patch, kind);
    case 'application/strategic-merge-patch+json':
      if (!isObject(patch))
        throw badRequest(`json: cannot unmarshal ${jsonTypeName(patch)} into Go value of type map[string]interface {}`);
      return strategicMerge(original, patch, kindMessage(kind, original));
    default:
      throw badRequest(`unsupported patch type: ${contentType}`);
  }
}

/**
 * applyServerSideApply merges an applied configuration over the live object the way server-side apply does for a
 * single manager: fields in the configuration win, lists merge by their keys, other fields stay.
 */
export function applyServerSideApply(kind: string, original: unknown, applied: unknown): unknown {
  if (!isObject(applied))
    throw badRequest(
      `error decoding YAML: json: cannot unmarshal ${jsonTypeName(applied)} into Go value of type map[string]interface {}`,
    );
  if (original === undefined) return structuredClone(applied);
  return strategicMerge(original, applied, kindMessage(kind, original));
}

/** mergePatch is RFC 7386: null deletes, objects recurse, everything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else setOwn(out, k, mergePatch(getOwn(out, k), v));
  }
  return out;
}

/**
 * The strategic merge walks the object's schema beside the patch: a list merges by its field's `patchMergeKey` when
 * its `patchStrategy` says merge (containers by name, service ports by port, env by name ...), a primitive list with
 * that strategy merges as a set (finalizers), every other list is replaced, as upstream.
 */
function listStrategy(field: FieldSchema | undefined): { key?: string; set: boolean } {
  const merge = field?.patchStrategy?.split(',').includes('merge') === true;
  if (!merge) return { set: false };
  return field!.patchMergeKey ? { key: field!.patchMergeKey, set: false } : { set: isScalar(field!.type) };
}

function childMessage(field: FieldSchema | undefined): MessageSchema | undefined {
  if (!field || isScalar(field.type)) return undefined;
  const m = elementMessage(field);
  return m && !m.json ? m : undefined;
}

/** kindMessage finds the schema of the patched object: by its own apiVersion, else by kind among the schema's kinds. */
function kindMessage(kind: string, original: unknown): MessageSchema | undefined {
  const apiVersion = isObject(original) ? getOwn(original, 'apiVersion') : undefined;
  return (
    (typeof apiVersion === 'string' ? kindSchema(apiVersion, kind) : undefined) ??
    schemaKinds().find((k) => k.kind === kind)?.message
  );
}

/** strategicMerge applies a strategic merge patch to an object of the given message (undefined: no schema known). */
function strategicMerge(original: unknown, patch: unknown, message: MessageSchema | undefined): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const directive = getOwn(patch, '$patch');
  if (directive === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (directive === 'delete') return undefined;
  const out: JsonObject = isObject(original) ? structuredClone(original) : {};
  const orders = new Map<string, unknown[]>();
  const deletions = new Map<string, unknown[]>();
  for (const [k, v] of Object.entries(patch)) {
    if (!Array.isArray(v)) continue;
    if (k.startsWith('$setElementOrder/')) orders.set(k.slice('$setElementOrder/'.length), v);
    else if (k.startsWith('$deleteFromPrimitiveList/')) deletions.set(k.slice('$deleteFromPrimitiveList/'.length), v);
  }
  const retain = getOwn(patch, '$retainKeys');
  if (Array.isArray(retain)) {
    for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  }
  const field = (k: string) => (message ? jsonField(message, k) : undefined);
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) {
      delete out[k];
    } else if (Array.isArray(v)) {
      setOwn(out, k, mergeList(getOwn(out, k), v, field(k)));
    } else if (isObject(v)) {
      const f = field(k);
      // A map's values are its element message; an object field is its message.
      const merged = strategicMerge(getOwn(out, k), v, f?.map ? undefined : childMessage(f));
      if (merged === undefined) delete out[k];
      else setOwn(out, k, merged);
    } else {
      setOwn(out, k, v);
    }
  }
  for (const [k, values] of deletions) {
    const list = getOwn(out, k);
    if (Array.isArray(list))
      setOwn(
        out,
        k,
        list.filter((x: unknown) => !values.includes(x)),
      );
  }
  for (const [k, order] of orders) {
    const list = getOwn(out, k);
    if (Array.isArray(list)) setOwn(out, k, reorder(list, order, listStrategy(field(k)).key));
  }
  return out;
}

function mergeList(original: unknown, patch: unknown[], field: FieldSchema | undefined): unknown[] {
  const { key, set } = listStrategy(field);
  if (key === undefined) {
    if (set) {
      const base: unknown[] = Array.isArray(original) ? [...original] : [];
      for (const item of patch) if (!base.includes(item)) base.push(item);
      return base;
    }
    return patch.map(stripDirectives);
  }
  const out: unknown[] = Array.isArray(original) ? structuredClone(original) : [];
  if (patch.some((p) => getOwn(p, '$patch') === 'replace')) {
    return patch.filter((p) => getOwn(p, '$patch') !== 'replace').map(stripDirectives);
  }
  for (const item of patch) {
    if (!isObject(item)) continue;
    const index = out.findIndex((o) => isObject(o) && getOwn(o, key) === getOwn(item, key));
    if (getOwn(item, '$patch') === 'delete') {
      if (index !== -1) out.splice(index, 1);
      continue;
    }
    if (index === -1) out.push(stripDirectives(item));
    else out[index] = strategicMerge(out[index], item, childMessage(field));
  }
  return out;
}

function reorder(list: unknown[], order: unknown[], key: string | undefined): unknown[] {
  const id = (x: unknown) => (key && isObject(x) ? getOwn(x, key) : x);
  const position = new Map(order.map((o, i) => [JSON.stringify(id(o)), i]));
  const ordered = list
    .filter((x) => position.has(JSON.stringify(id(x))))
    .sort((a, b) => position.get(JSON.stringify(id(a)))! - position.get(JSON.stringify(id(b)))!);
  const rest = list.filter((x) => !position.has(JSON.stringify(id(x))));
  return [...ordered, ...rest];
}

function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) if (!k.startsWith('$')) setOwn(out, k, stripDirectives(v));
  return out;
}

/** jsonTypeName names a decoded JSON value the way Go's decoder does in its errors. */
function jsonTypeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  return typeof value;
}

/** patchFailed is upstream's answer when a JSON patch cannot be applied: 422 with the detail as its cause. */
function patchFailed(detail: string): never {
  throw unprocessable(detail);
}

/**
 * jsonPatch is RFC 6902 with add, remove, replace, move, copy and test. At most MAX_JSON_PATCH_OPERATIONS
 * operations (413 past that, as upstream), and copies may add at most MAX_COPY_BYTES in total, so a short patch
 * cannot double an object until the heap is gone. Paths only ever reach the document's own members.
 */
function jsonPatch(original: unknown, ops: unknown, _kind: string): unknown {
  if (!Array.isArray(ops))
    throw badRequest(`json: cannot unmarshal ${jsonTypeName(ops)} into Go value of type jsonpatch.Patch`);
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw requestEntityTooLargeMessage(
      `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`,
    );
  }
  let doc = structuredClone(original);
  let copied = 0;
  for (const op of ops) {
    if (!isObject(op)) patchFailed('Unexpected kind: unknown');
    const kind = getOwn(op, 'op');
    const path = () => parsePointer(getOwn(op, 'path'));
    const value = () => {
      if (!hasOwn(op, 'value')) patchFailed(`missing value`);
      return structuredClone(getOwn(op, 'value'));
    };
    switch (kind) {
      case 'add':
        doc = setAt(doc, path(), value(), 'add');
        break;
      case 'remove': {
        const p = path();
        if (p.length === 0) patchFailed('Unable to remove the whole document: remove of the root is not supported');
        getAt(doc, p);
        doc = setAt(doc, p, undefined, 'remove');
        break;
      }
      case 'replace': {
        const p = path();
        getAt(doc, p);
        doc = setAt(doc, p, value(), 'replace');
        break;
      }
      case 'move': {
        const from = parsePointer(getOwn(op, 'from'));
        const to = path();
        if (to.length > from.length && from.every((s, i) => s === to[i]))
          patchFailed('Unable to move to a child of the source location');
        const moved = getAt(doc, from);
        doc = setAt(doc, from, undefined, 'remove');
        doc = setAt(doc, to, moved, 'add');
        break;
      }
      case 'copy': {
        const from = parsePointer(getOwn(op, 'from'));
        const source = getAt(doc, from);
        copied += JSON.stringify(source ?? null).length;
        if (copied > MAX_COPY_BYTES) {
          patchFailed(
            `Unable to complete the copy, the accumulated size increase of copy is ${copied}, exceeding the limit ${MAX_COPY_BYTES}`,
          );
        }
        doc = setAt(doc, path(), structuredClone(source), 'add');
        break;
      }
      case 'test': {
        const p = path();
        if (JSON.stringify(getAt(doc, p)) !== JSON.stringify(getOwn(op, 'value') ?? null))
          patchFailed(`testing value ${String(getOwn(op, 'path'))} failed: test failed`);
        break;
      }
      default:
        patchFailed(`Unexpected kind: ${typeof kind === 'string' ? kind : 'unknown'}`);
    }
  }
  return doc;
}

function parsePointer(pointer: unknown): string[] {
  if (typeof pointer !== 'string') patchFailed('missing path');
  if (pointer !== '' && !pointer.startsWith('/')) patchFailed(`JSON pointer "${pointer}" must start with "/"`);
  if (/~[^01]|~$/.test(pointer)) patchFailed(`invalid JSON pointer escape in "${pointer}"`);
  return pointer === ''
    ? []
    : pointer
        .slice(1)
        .split('/')
        .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function text(path: string[]): string {
  return path.map((p) => `/${p.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

function arrayIndex(list: unknown[], segment: string, allowEnd: boolean): number | undefined {
  if (allowEnd && segment === '-') return list.length;
  if (!/^(0|[1-9][0-9]*)$/.test(segment)) return undefined;
  const index = Number(segment);
  return index < list.length || (allowEnd && index === list.length) ? index : undefined;
}

/** getAt reads the member at path, through own members only; a missing one is upstream's "missing value". */
function getAt(doc: unknown, path: string[]): unknown {
  let cur = doc;
  for (let i = 0; i < path.length; i++) {
    const p = path[i]!;
    if (Array.isArray(cur)) {
      const index = arrayIndex(cur, p, false);
      if (index === undefined) patchFailed(`doc is missing path: "${text(path)}": missing value`);
      cur = cur[index];
    } else if (hasOwn(cur, p)) {
      cur = getOwn(cur, p);
    } else {
      patchFailed(`doc is missing path: "${text(path)}": missing value`);
    }
  }
  return cur;
}

function setAt(doc: unknown, path: string[], value: unknown, mode: 'add' | 'remove' | 'replace'): unknown {
  if (path.length === 0) return mode === 'remove' ? null : value;
  const parent = getAt(doc, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) {
    const index = arrayIndex(parent, last, mode === 'add');
    if (index === undefined) patchFailed(`Unable to access invalid index: ${last}: invalid index referenced`);
    if (mode === 'add') parent.splice(index, 0, value);
    else if (mode === 'remove') parent.splice(index, 1);
    else parent[index] = value;
  } else if (isObject(parent)) {
    if (mode === 'remove') delete parent[last];
    else setOwn(parent, last, value);
  } else {
    patchFailed(`doc is missing path: "${text(path)}": missing value`);
  }
  return doc;
}
