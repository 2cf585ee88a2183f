import { isPlainObject, setOwn } from '../../api/own-properties.ts';
import type { Decoded } from '../per-kind.ts';
import {
  elementMessage,
  isScalar,
  jsonField,
  kindSchema,
  messageSchema,
  type FieldSchema,
  type MessageSchema,
} from '../../api/schema/schema.ts';

/**
 * typedDecode reads a JSON object into the shape of its kind's one schema (src/api/schema), as upstream's typed
 * decoding does: a value of the wrong JSON type is an error with Go's wording (`json: cannot unmarshal string into
 * Go struct field ServiceSpec.spec.ports of type []v1.ServicePort`); fields the kind does not have are dropped and
 * reported (for fieldValidation Strict and Warn); null stands for the zero value and is dropped. The result holds
 * only the schema's fields with the schema's types, so what is stored always decodes for kubectl and the protobuf
 * codec. Keys are written as own data properties (`__proto__` stays a plain, unknown field).
 */
export interface TypedDecodeResult {
  /** The decoded object (a plain object with the schema's fields), or the value itself for a kind without a schema. */
  object: unknown;
  /** Paths of dropped unknown fields, upstream's form: `spec.foo`, `spec.ports[0].bar`. */
  unknown: string[];
}

/** TypeMismatch is a value of the wrong JSON type; message is the Go decoder's, path the field path. */
export class TypeMismatch extends Error {
  readonly path: string;
  constructor(message: string, path: string) {
    super(message);
    this.name = 'TypeMismatch';
    this.path = path;
  }
}

/** typedDecode decodes value as apiVersion/kind; kinds without a schema pass through unchanged. Throws TypeMismatch. */
export function typedDecode(apiVersion: string, kind: string, value: unknown): TypedDecodeResult {
  const message = kindSchema(apiVersion, kind);
  if (!message || !isPlainObject(value)) return { object: value, unknown: [] };
  const unknown: string[] = [];
  const object = decodeMessage(message, value, { path: '', goPath: '', struct: shortName(message) }, unknown, true);
  return { object, unknown };
}

/**
 * decodeKind decodes the body of a kind the server answers without storing it (the reviews, TokenRequest) with that
 * kind's schema, as typedDecode does (unknown fields dropped, wrong types a TypeMismatch); no body is an empty
 * object. The caller names T, the kind's kubernetes-types type: typed decoding with the kind's schema is what makes
 * the result that shape, so this is the one place decoded JSON is read as T.
 */
export function decodeKind<T>(apiVersion: string, kind: string, value: unknown): Decoded<T> {
  const message = kindSchema(apiVersion, kind);
  if (!message) throw new Error(`no schema for ${apiVersion} ${kind}`);
  const where = { path: '', goPath: '', struct: shortName(message) };
  return decodeMessage(message, value ?? {}, where, [], true) as Decoded<T>;
}

interface Where {
  /** JSON path with indexes and keys, for unknown fields and causes. */
  path: string;
  /** Go's path (field names only), for type errors. */
  goPath: string;
  /** The Go struct the field belongs to. */
  struct: string;
}

function join(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

function shortName(message: MessageSchema | string): string {
  const name = typeof message === 'string' ? message : message.name;
  return name.slice(name.lastIndexOf('.') + 1);
}

/** goTypeName prints a schema type as Go would (`[]v1.ServicePort`, `map[string]string`, `*int32`, `intstr.IntOrString`). */
function goTypeName(field: FieldSchema, element = false): string {
  const base = (() => {
    if (isScalar(field.type))
      return (
        {
          string: 'string',
          bytes: '[]uint8',
          bool: 'bool',
          int32: 'int32',
          int64: 'int64',
          uint32: 'uint32',
          uint64: 'uint64',
          double: 'float64',
          float: 'float32',
        } as const
      )[field.type];
    const parts = field.type.split('.');
    return `${parts[parts.length - 2]}.${parts[parts.length - 1]}`;
  })();
  if (element) return base;
  if (field.map) return `map[string]${base}`;
  if (field.repeated) return `[]${base}`;
  return base;
}

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'object';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return `number`;
  return typeof value;
}

function mismatch(value: unknown, where: Where, goType: string): never {
  const what = typeof value === 'number' ? `number ${String(value)}` : jsonKind(value);
  const field = where.goPath ? ` Go struct field ${where.struct}.${where.goPath} of` : ' Go value of';
  throw new TypeMismatch(`json: cannot unmarshal ${what} into${field} type ${goType}`, where.path);
}

function decodeMessage(message: MessageSchema, value: unknown, where: Where, unknown: string[], top = false): unknown {
  if (message.json) return decodeSpecial(message, value, where);
  if (!isPlainObject(value)) mismatch(value, where, `${message.name.split('.').slice(-2).join('.')}`);
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (top && (key === 'apiVersion' || key === 'kind')) {
      if (v !== null && typeof v !== 'string') mismatch(v, { path: key, goPath: key, struct: 'TypeMeta' }, 'string');
      if (v !== null) setOwn(out, key, v);
      continue;
    }
    const field = jsonField(message, key);
    const path = join(where.path, key);
    if (!field) {
      unknown.push(path);
      continue;
    }
    if (v === null) continue;
    const child: Where = { path, goPath: join(where.goPath, key), struct: shortName(message) };
    setOwn(out, key, decodeField(field, v, child, unknown));
  }
  return out;
}

function decodeField(field: FieldSchema, value: unknown, where: Where, unknown: string[]): unknown {
  if (field.map) {
    if (!isPlainObject(value)) mismatch(value, where, goTypeName(field));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value))
      setOwn(
        out,
        k,
        v === null
          ? zero(field)
          : decodeValue(field, v, { ...where, path: `${where.path}[${JSON.stringify(k)}]` }, unknown),
      );
    return out;
  }
  if (field.repeated && field.type !== 'bytes') {
    if (!Array.isArray(value)) mismatch(value, where, goTypeName(field));
    return value.map((v, i) =>
      v === null ? zero(field) : decodeValue(field, v, { ...where, path: `${where.path}[${i}]` }, unknown),
    );
  }
  return decodeValue(field, value, where, unknown);
}

function zero(field: FieldSchema): unknown {
  switch (field.type) {
    case 'string':
    case 'bytes':
      return '';
    case 'bool':
      return false;
    case 'int32':
    case 'int64':
    case 'uint32':
    case 'uint64':
    case 'double':
    case 'float':
      return 0;
    default:
      return messageSchema(field.type).json ? null : {};
  }
}

const INT_RANGE: Record<string, [number, number]> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

function decodeValue(field: FieldSchema, value: unknown, where: Where, unknown: string[]): unknown {
  const goType = goTypeName(field, true);
  switch (field.type) {
    case 'string':
      if (typeof value !== 'string') mismatch(value, where, goType);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') mismatch(value, where, goType);
      return value;
    case 'double':
    case 'float':
      if (typeof value !== 'number') mismatch(value, where, goType);
      return value;
    case 'int32':
    case 'int64':
    case 'uint32':
    case 'uint64': {
      const [min, max] = INT_RANGE[field.type]!;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
        mismatch(value, where, goType);
      return value;
    }
    case 'bytes':
      if (typeof value !== 'string') mismatch(value, where, goTypeName(field));
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0)
        throw new TypeMismatch(
          `illegal base64 data at input byte ${Math.max(0, value.search(/[^A-Za-z0-9+/=]/))}`,
          where.path,
        );
      return value;
  }
  const message = elementMessage(field)!;
  return decodeMessage(message, value, where, unknown);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** decodeSpecial reads the kinds whose JSON is not an object of fields (custom MarshalJSON upstream). */
function decodeSpecial(message: MessageSchema, value: unknown, where: Where): unknown {
  switch (message.json) {
    case 'time':
    case 'micro-time':
      if (typeof value !== 'string') mismatch(value, where, message.json === 'time' ? 'v1.Time' : 'v1.MicroTime');
      if (!RFC3339.test(value) || Number.isNaN(Date.parse(value)))
        throw new TypeMismatch(
          `parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(value)} as "2006"`,
          where.path,
        );
      return value;
    case 'duration':
      if (typeof value !== 'string') mismatch(value, where, 'v1.Duration');
      return value;
    case 'int-or-string':
      if (typeof value === 'string') return value;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < -(2 ** 31) || value > 2 ** 31 - 1)
        mismatch(value, where, 'intstr.IntOrString');
      return value;
    case 'quantity':
      if (typeof value === 'number' && Number.isFinite(value)) return value;
      if (typeof value !== 'string')
        throw new TypeMismatch(
          "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
          where.path,
        );
      return value;
    case 'string-array':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) mismatch(value, where, '[]string');
      return value;
    case 'raw-json':
      if (!isPlainObject(value)) mismatch(value, where, 'v1.FieldsV1');
      return value;
    default:
      return value;
  }
}
