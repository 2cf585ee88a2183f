import { isPlainObject, type JsonObject, setOwn } from '../own-properties.ts';
import { elementMessage, isScalar, jsonFields, type FieldSchema, type MessageSchema } from '../schema/schema.ts';
import { formatGoDuration, formatMicroTime, formatTime, parseGoDuration, parseTime } from './time-forms.ts';

/**
 * json-form converts between an object's JSON form (as the API serves it) and its protobuf form (plain objects keyed
 * by the schema's field names, as protobufjs encodes and decodes them), following upstream's Go JSON rules:
 * - inline (embedded) structs: their fields sit in the parent's JSON object, in a nested message on the wire;
 * - custom JSON forms: Time/MicroTime (RFC 3339 strings), Duration (Go duration string), IntOrString, Quantity,
 *   RawExtension/FieldsV1 (embedded JSON), string arrays (ExtraValue, Verbs);
 * - on the way back, a zero value of a non-pointer `omitempty` field is left out, as Go's JSON encoder leaves it
 *   out, so what a Go client sends over protobuf (which always carries non-pointer fields) reads as its JSON would.
 * Embedded objects (RawExtension) are written as JSON, as upstream's clients and server write them; on the way back
 * `nested` decodes one that holds a `k8s\0` protobuf envelope instead.
 */
export interface NestedCodec {
  decode(bytes: Uint8Array): unknown;
}

const TEXT = new TextEncoder();
const UTF8 = new TextDecoder();

/** toProtoForm turns a JSON object of a message into its protobuf form; unknown JSON fields are dropped. */
export function toProtoForm(message: MessageSchema, json: unknown): JsonObject {
  if (message.json) return specialToProto(message, json);
  const out: JsonObject = {};
  if (!isPlainObject(json)) return out;
  // Walk the object's own keys (usually far fewer than the message's fields); inline fields land in nested messages.
  const fields = jsonFields(message);
  for (const key in json) {
    const f = fields.get(key);
    const value = json[key];
    if (f === undefined || value === undefined || value === null) continue;
    let target = out;
    for (const via of f.via) target = member(target, via.name);
    if (f.map) {
      if (typeof value !== 'object') continue;
      const map: JsonObject = {};
      for (const [k, v] of Object.entries(value)) if (v !== null && v !== undefined) setOwn(map, k, valueToProto(f, v));
      target[f.name] = map;
    } else if (f.repeated) {
      if (!Array.isArray(value)) continue;
      const list: unknown[] = [];
      for (const v of value) if (v !== null && v !== undefined) list.push(valueToProto(f, v));
      target[f.name] = list;
    } else {
      target[f.name] = valueToProto(f, value);
    }
  }
  return out;
}

/** member is the nested message object at name (an inline struct's fields go there), made when missing. */
function member(target: JsonObject, name: string): JsonObject {
  const found = target[name];
  if (isPlainObject(found)) return found;
  const made: JsonObject = {};
  target[name] = made;
  return made;
}

function valueToProto(f: FieldSchema, value: unknown): unknown {
  if (!isScalar(f.type)) return toProtoForm(elementMessage(f)!, value);
  switch (f.type) {
    case 'string':
      return typeof value === 'string' ? value : String(value);
    case 'bytes':
      return typeof value === 'string' ? Buffer.from(value, 'base64') : new Uint8Array();
    case 'bool':
      return value === true;
    default:
      return typeof value === 'number' ? value : Number(value);
  }
}

function specialToProto(message: MessageSchema, json: unknown): JsonObject {
  switch (message.json) {
    case 'time':
    case 'micro-time':
      return typeof json === 'string' && json !== '' ? parseTime(json) : {};
    case 'duration':
      return { duration: typeof json === 'string' ? parseGoDuration(json) : Number(json) };
    case 'int-or-string':
      return typeof json === 'number' ? { type: 0, intVal: json } : { type: 1, strVal: String(json) };
    case 'quantity':
      return { string: String(json) };
    case 'string-array':
      return { items: Array.isArray(json) ? json.map(String) : [] };
    case 'raw-extension':
    case 'raw-json':
      return { [message.fields[0]!.name]: TEXT.encode(JSON.stringify(json)) };
    default:
      throw new RangeError(`Cannot encode JSON form "${message.json}"`);
  }
}

/**
 * fromProtoForm turns a decoded protobuf message (a protobufjs object) back into JSON: an object, or for a message
 * with its own JSON form (Time, Quantity, IntOrString, ...) that form's value.
 */
export function fromProtoForm(message: MessageSchema, decoded: unknown, nested: NestedCodec): unknown {
  if (message.json) return specialFromProto(message, decoded, nested);
  const out: JsonObject = {};
  fill(message, decoded, out, nested);
  return out;
}

function fill(message: MessageSchema, decoded: unknown, out: JsonObject, nested: NestedCodec): void {
  // protobufjs sets own properties only for fields on the wire (and empty arrays/maps for every list and map).
  if (!isPlainObject(decoded)) return;
  const fields = protoFields(message);
  for (const key of Object.keys(decoded)) {
    const f = fields.get(key);
    if (f === undefined) continue;
    const value = decoded[key];
    if (f.inline) {
      if (value) fill(elementMessage(f)!, value, out, nested);
      continue;
    }
    if (f.map) {
      const entries = isPlainObject(value) ? Object.entries(value) : [];
      if (entries.length === 0) continue;
      const map: JsonObject = {};
      for (const [k, v] of entries) setOwn(map, k, valueFromProto(f, v, nested));
      out[f.name] = map;
    } else if (f.repeated) {
      if (!Array.isArray(value) || value.length === 0) continue;
      out[f.name] = value.map((v: unknown) => valueFromProto(f, v, nested));
    } else {
      if (value === null || value === undefined) continue;
      const json = valueFromProto(f, value, nested);
      if (!f.pointer && isZero(f, json)) continue;
      out[f.name] = json;
    }
  }
}

const PROTO_FIELDS = new WeakMap<MessageSchema, Map<string, FieldSchema>>();

/** protoFields maps a message's field names (as protobufjs names them) to their schema. */
function protoFields(message: MessageSchema): Map<string, FieldSchema> {
  let map = PROTO_FIELDS.get(message);
  if (!map) {
    map = new Map(message.fields.map((f) => [f.name, f]));
    PROTO_FIELDS.set(message, map);
  }
  return map;
}

/** isZero: a non-pointer field whose value Go's JSON encoder would omit (an omitempty zero scalar, the zero time). */
function isZero(f: FieldSchema, json: unknown): boolean {
  if (json === undefined) return true;
  return isScalar(f.type) && f.omitEmpty === true && (json === '' || json === 0 || json === false);
}

function valueFromProto(f: FieldSchema, value: unknown, nested: NestedCodec): unknown {
  if (!isScalar(f.type)) return fromProtoForm(elementMessage(f)!, value, nested);
  switch (f.type) {
    case 'bytes':
      return value instanceof Uint8Array ? Buffer.from(value).toString('base64') : '';
    case 'int64':
    case 'uint64':
      return longToNumber(value);
    default:
      return value;
  }
}

/** longToNumber reads a 64-bit field: protobufjs gives a number, or a Long (whose toString is the decimal value). */
function longToNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(String(value));
}

function specialFromProto(message: MessageSchema, value: unknown, nested: NestedCodec): unknown {
  const decoded: JsonObject = isPlainObject(value) ? value : {};
  switch (message.json) {
    case 'time':
    case 'micro-time': {
      // Upstream writes the zero time as an empty message and reads an empty message as the zero time (JSON null).
      const own = (k: string) => Object.hasOwn(decoded, k);
      if (!own('seconds') && !own('nanos')) return undefined;
      const seconds = decoded.seconds === undefined ? 0 : longToNumber(decoded.seconds);
      const nanos = typeof decoded.nanos === 'number' ? decoded.nanos : 0;
      return message.json === 'time' ? formatTime(seconds) : formatMicroTime(seconds, nanos);
    }
    case 'duration':
      return formatGoDuration(decoded.duration === undefined ? 0 : longToNumber(decoded.duration));
    case 'int-or-string':
      return Number(decoded.type ?? 0) === 1 ? (decoded.strVal ?? '') : (decoded.intVal ?? 0);
    case 'quantity':
      return decoded.string ?? '0';
    case 'string-array':
      return Array.isArray(decoded.items) ? [...decoded.items] : [];
    case 'raw-extension':
    case 'raw-json': {
      const raw = decoded[message.fields[0]!.name];
      if (!(raw instanceof Uint8Array) || raw.length === 0) return undefined;
      if (raw[0] === 0x6b && raw[1] === 0x38 && raw[2] === 0x73 && raw[3] === 0) return nested.decode(raw);
      return JSON.parse(UTF8.decode(raw));
    }
    default:
      throw new RangeError(`Cannot decode JSON form "${message.json}"`);
  }
}
