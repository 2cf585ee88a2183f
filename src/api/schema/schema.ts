/**
 * The one schema of every served kind: messages with their fields' JSON names, protobuf numbers and types, Go JSON
 * facts (pointer = presence kept, omitempty, inline) and the list/merge markers strategic merge needs. It is data
 * (`messages.json`, derived from upstream's generated.proto and Go struct tags by scripts/gen-schema.ts); this module
 * is its read-only lookup API, used by the protobuf codec, OpenAPI, validation and patches.
 */
import { readFileSync } from 'node:fs';

export { Descriptions, type TypeDescription } from './descriptions.ts';

/** JsonFormat names the messages whose JSON form is not an object of their fields (custom MarshalJSON upstream). */
export type JsonFormat =
  | 'time'
  | 'micro-time'
  | 'duration'
  | 'raw-json'
  | 'raw-extension'
  | 'int-or-string'
  | 'quantity'
  | 'string-array';

/** ScalarType is a protobuf scalar; any other `FieldSchema.type` is a message's full protobuf name. */
export type ScalarType = 'string' | 'bytes' | 'bool' | 'int32' | 'int64' | 'uint32' | 'uint64' | 'double' | 'float';

/** FieldSchema describes one field of a message. */
export interface FieldSchema {
  /** JSON name (for an inline field, the protobuf name; its fields appear in the parent's JSON object). */
  readonly name: string;
  /** Protobuf field number. */
  readonly number: number;
  /** A ScalarType or a message's full protobuf name (`k8s.io.api.core.v1.ServicePort`); for maps, the value type. */
  readonly type: string;
  readonly repeated?: true;
  /** A map with string keys (`type` is the value type). */
  readonly map?: true;
  /** Go pointer: presence is kept, so a zero value (0, "", false) is not the same as absent. */
  readonly pointer?: true;
  /** Go `omitempty`: a zero value is left out of JSON. */
  readonly omitEmpty?: true;
  /** Go embedded struct without a JSON name: its fields are the parent's in JSON (Volume ⊃ VolumeSource). */
  readonly inline?: true;
  /** `+optional` upstream. */
  readonly optional?: true;
  /** `+listType`: atomic, set or map. */
  readonly listType?: string;
  /** `+listMapKey` (server-side apply's keys of a listType=map list). */
  readonly listMapKeys?: readonly string[];
  /** `+patchStrategy` (strategic merge patch): merge, retainKeys, or merge,retainKeys. */
  readonly patchStrategy?: string;
  /** `+patchMergeKey` (strategic merge patch's key of a merged list). */
  readonly patchMergeKey?: string;
}

/** MessageSchema describes one protobuf message (an object type). */
export interface MessageSchema {
  /** Full protobuf name, e.g. `k8s.io.api.core.v1.Service`. */
  readonly name: string;
  readonly fields: readonly FieldSchema[];
  readonly json?: JsonFormat;
}

/** JsonField is a field as seen in JSON: inline fields are flattened; `via` lists the inline fields it sits under. */
export interface JsonField extends FieldSchema {
  readonly via: readonly FieldSchema[];
}

interface SchemaFile {
  kinds: Record<string, string>;
  messages: Record<string, { fields: FieldSchema[]; json?: JsonFormat }>;
}

const FILE = JSON.parse(readFileSync(new URL('./messages.json', import.meta.url), 'utf8')) as SchemaFile;
const MESSAGES = new Map<string, MessageSchema>(
  Object.entries(FILE.messages).map(([name, m]) => [name, Object.freeze({ name, ...m })]),
);
const JSON_FIELDS = new WeakMap<MessageSchema, ReadonlyMap<string, JsonField>>();

const SCALARS = new Set<string>(['string', 'bytes', 'bool', 'int32', 'int64', 'uint32', 'uint64', 'double', 'float']);

/** isScalar tells whether a field type is a protobuf scalar rather than a message. */
export function isScalar(type: string): type is ScalarType {
  return SCALARS.has(type);
}

/** messageSchema returns a message by its full protobuf name; an unknown name is a RangeError (a schema bug). */
export function messageSchema(name: string): MessageSchema {
  const m = MESSAGES.get(name);
  if (!m) throw new RangeError(`Cannot find message "${name}" in the schema`);
  return m;
}

/** hasMessage tells whether the schema holds a message. */
export function hasMessage(name: string): boolean {
  return MESSAGES.has(name);
}

/**
 * kindSchema returns the top-level message of a kind (`apiVersion` as written in objects: `v1`, `apps/v1`), or
 * undefined when the kind has no schema. meta.k8s.io kinds (Status, DeleteOptions, APIResourceList, WatchEvent …)
 * are found under any group version; PartialObjectMetadata(List) under `meta.k8s.io/v1` (and v1beta1).
 */
export function kindSchema(apiVersion: string, kind: string): MessageSchema | undefined {
  const gv = apiVersion === 'meta.k8s.io/v1beta1' ? 'meta.k8s.io/v1' : apiVersion;
  // Upstream registers meta's option kinds (DeleteOptions …) and Status in every group version.
  const name = FILE.kinds[`${gv}/${kind}`] ?? FILE.kinds[`meta.k8s.io/v1/${kind}`];
  return name ? MESSAGES.get(name) : undefined;
}

/** schemaKinds lists every `apiVersion/Kind` the schema knows (for tests and OpenAPI). */
export function schemaKinds(): { apiVersion: string; kind: string; message: MessageSchema }[] {
  return Object.entries(FILE.kinds).map(([key, name]) => {
    const slash = key.lastIndexOf('/');
    return { apiVersion: key.slice(0, slash), kind: key.slice(slash + 1), message: MESSAGES.get(name)! };
  });
}

/** jsonFields maps a message's JSON field names to fields, with inline (embedded) fields flattened into it. */
export function jsonFields(message: MessageSchema): ReadonlyMap<string, JsonField> {
  let map = JSON_FIELDS.get(message);
  if (map) return map;
  const out = new Map<string, JsonField>();
  const add = (m: MessageSchema, via: readonly FieldSchema[]) => {
    for (const f of m.fields) {
      if (f.inline) add(messageSchema(f.type), [...via, f]);
      else out.set(f.name, { ...f, via });
    }
  };
  add(message, []);
  map = out;
  JSON_FIELDS.set(message, map);
  return map;
}

/** jsonField returns one JSON field of a message, or undefined when the message has no such field. */
export function jsonField(message: MessageSchema, name: string): JsonField | undefined {
  return jsonFields(message).get(name);
}

/**
 * fieldAt walks a JSON path (`['spec', 'ports', 'targetPort']`; list indexes and map keys are skipped by giving the
 * next field name directly) from a kind and returns the field found there, or undefined.
 */
export function fieldAt(message: MessageSchema, path: readonly string[]): JsonField | undefined {
  let m: MessageSchema | undefined = message;
  let field: JsonField | undefined;
  for (const name of path) {
    if (!m || m.json) return undefined;
    field = jsonField(m, name);
    if (!field) return undefined;
    m = isScalar(field.type) ? undefined : messageSchema(field.type);
  }
  return field;
}

/** elementMessage is the message of a field's values (list items, map values, or the field itself), if any. */
export function elementMessage(field: FieldSchema): MessageSchema | undefined {
  return isScalar(field.type) ? undefined : messageSchema(field.type);
}

/**
 * openApiName is a message's name in OpenAPI definitions: `io.k8s.api.core.v1.Service` for
 * `k8s.io.api.core.v1.Service` (upstream reverses the `k8s.io` domain).
 */
export function openApiName(message: MessageSchema | string): string {
  const name = typeof message === 'string' ? message : message.name;
  return name.startsWith('k8s.io.') ? `io.k8s.${name.slice('k8s.io.'.length)}` : name;
}
