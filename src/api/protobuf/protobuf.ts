import { getOwn, isPlainObject, type JsonObject } from '../own-properties.ts';
import { kindSchema, messageSchema, type MessageSchema } from '../schema/schema.ts';
import { fromProtoForm, toProtoForm, type NestedCodec } from './json-form.ts';
import { protoType } from './proto-root.ts';

/**
 * Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`), driven by the one schema: an object is the
 * 4 bytes `k8s\0` followed by a runtime.Unknown whose typeMeta carries apiVersion/kind and whose raw holds the
 * object's message (upstream's k8s.io/apimachinery/pkg/runtime/serializer/protobuf). A watch stream is a sequence
 * of frames, each a 4-byte big-endian length and a metav1.WatchEvent whose object is such an enveloped object.
 */
export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);
const UNKNOWN = messageSchema('k8s.io.apimachinery.pkg.runtime.Unknown');
const WATCH_EVENT = messageSchema('k8s.io.apimachinery.pkg.apis.meta.v1.WatchEvent');
const NESTED: NestedCodec = { decode: (bytes) => decodeObject(bytes) };

/** protobufMessageOf returns the schema message of an object's kind, or undefined if the kind has no protobuf form. */
export function protobufMessageOf(object: unknown): MessageSchema | undefined {
  const { apiVersion, kind } = typeMetaOf(object);
  if (kind === undefined || apiVersion === undefined) return undefined;
  return kindSchema(apiVersion, kind);
}

/** typeMetaOf reads an object's apiVersion and kind, when they are strings. */
function typeMetaOf(object: unknown): { apiVersion?: string; kind?: string } {
  const apiVersion = getOwn(object, 'apiVersion');
  const kind = getOwn(object, 'kind');
  return {
    apiVersion: typeof apiVersion === 'string' ? apiVersion : undefined,
    kind: typeof kind === 'string' ? kind : undefined,
  };
}

/** DecodedObject is an object read from protobuf: its kind and apiVersion, and the rest as arbitrary JSON. */
export type DecodedObject = JsonObject & { kind: string; apiVersion: string };

/** encodeObject writes an object (with kind and apiVersion) in the protobuf envelope; a kind without schema is a TypeError. */
export function encodeObject(object: unknown): Buffer {
  const { apiVersion, kind } = typeMetaOf(object);
  const message = protobufMessageOf(object);
  if (!message)
    throw new TypeError(
      `Cannot encode ${getOwn(object, 'apiVersion')}/${getOwn(object, 'kind')} as protobuf: no schema for this kind`,
    );
  const raw = protoType(message).encode(toProtoForm(message, object)).finish();
  const envelope = protoType(UNKNOWN)
    .encode({
      typeMeta: { apiVersion, kind },
      raw,
      contentEncoding: '',
      contentType: '',
    })
    .finish();
  return Buffer.concat([MAGIC, envelope]);
}

/**
 * decodeObject reads an enveloped object back into JSON (kind and apiVersion first). Bytes that are not a valid
 * envelope, or a kind without schema, are a SyntaxError the API server answers with 400.
 */
export function decodeObject(bytes: Uint8Array): DecodedObject {
  if (bytes.length < MAGIC.length || !MAGIC.equals(bytes.subarray(0, MAGIC.length))) {
    throw new SyntaxError('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  }
  const unknown = decodeMessage(UNKNOWN, bytes.subarray(MAGIC.length));
  const typeMeta = typeMetaOf(getOwn(unknown, 'typeMeta'));
  const apiVersion = typeMeta.apiVersion ?? '';
  const kind = typeMeta.kind ?? '';
  const message = kindSchema(apiVersion, kind);
  if (!message) throw new SyntaxError(`no kind "${kind}" is registered for version "${apiVersion}"`);
  const raw = getOwn(unknown, 'raw');
  const body = fromProtoForm(
    message,
    decodeMessage(message, raw instanceof Uint8Array ? raw : new Uint8Array()),
    NESTED,
  );
  return { kind, apiVersion, ...(isPlainObject(body) ? body : {}) };
}

function decodeMessage(message: MessageSchema, bytes: Uint8Array): unknown {
  try {
    return protoType(message).decode(bytes);
  } catch (error) {
    throw new SyntaxError(`Cannot decode ${message.name} from protobuf: ${(error as Error).message}`);
  }
}

/** encodeWatchFrame writes one watch event as a length-prefixed frame of a metav1.WatchEvent. */
export function encodeWatchFrame(type: string, object: unknown): Buffer {
  const event = protoType(WATCH_EVENT)
    .encode({ type, object: { raw: encodeObject(object) } })
    .finish();
  const frame = Buffer.allocUnsafe(4 + event.length);
  frame.writeUInt32BE(event.length, 0);
  frame.set(event, 4);
  return frame;
}

/**
 * WatchFrameDecoder reads watch events out of a protobuf watch stream, however its chunks are cut: push chunks,
 * get every complete event (`{type, object}` in JSON form) back.
 */
export class WatchFrameDecoder {
  #pending: Buffer = Buffer.alloc(0);

  push(chunk: Uint8Array): { type: string; object: DecodedObject | undefined }[] {
    this.#pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : Buffer.from(chunk);
    const events: { type: string; object: DecodedObject | undefined }[] = [];
    while (this.#pending.length >= 4) {
      const size = this.#pending.readUInt32BE(0);
      if (this.#pending.length < 4 + size) break;
      const event = decodeMessage(WATCH_EVENT, this.#pending.subarray(4, 4 + size));
      this.#pending = this.#pending.subarray(4 + size);
      const raw = getOwn(getOwn(event, 'object'), 'raw');
      const type = getOwn(event, 'type');
      events.push({
        type: typeof type === 'string' ? type : '',
        object: raw instanceof Uint8Array && raw.length > 0 ? decodeObject(raw) : undefined,
      });
    }
    return events;
  }
}
