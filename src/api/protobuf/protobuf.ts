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
export function protobufMessageOf(
  object: { apiVersion?: unknown; kind?: unknown } | null | undefined,
): MessageSchema | undefined {
  if (!object || typeof object.kind !== 'string' || typeof object.apiVersion !== 'string') return undefined;
  return kindSchema(object.apiVersion, object.kind);
}

/** encodeObject writes an object (with kind and apiVersion) in the protobuf envelope; a kind without schema is a TypeError. */
export function encodeObject(object: any): Buffer {
  const message = protobufMessageOf(object);
  if (!message)
    throw new TypeError(`Cannot encode ${object?.apiVersion}/${object?.kind} as protobuf: no schema for this kind`);
  const raw = protoType(message).encode(toProtoForm(message, object)).finish();
  const envelope = protoType(UNKNOWN)
    .encode({
      typeMeta: { apiVersion: object.apiVersion, kind: object.kind },
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
export function decodeObject(bytes: Uint8Array): any {
  if (bytes.length < MAGIC.length || !MAGIC.equals(bytes.subarray(0, MAGIC.length))) {
    throw new SyntaxError('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  }
  const unknown = decodeMessage(UNKNOWN, bytes.subarray(MAGIC.length)) as any;
  const apiVersion: string = unknown.typeMeta?.apiVersion ?? '';
  const kind: string = unknown.typeMeta?.kind ?? '';
  const message = kindSchema(apiVersion, kind);
  if (!message) throw new SyntaxError(`no kind "${kind}" is registered for version "${apiVersion}"`);
  const body = fromProtoForm(message, decodeMessage(message, unknown.raw ?? new Uint8Array()), NESTED);
  return { kind, apiVersion, ...body };
}

function decodeMessage(message: MessageSchema, bytes: Uint8Array): unknown {
  try {
    return protoType(message).decode(bytes);
  } catch (error) {
    throw new SyntaxError(`Cannot decode ${message.name} from protobuf: ${(error as Error).message}`);
  }
}

/** encodeWatchFrame writes one watch event as a length-prefixed frame of a metav1.WatchEvent. */
export function encodeWatchFrame(type: string, object: any): Buffer {
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

  push(chunk: Uint8Array): { type: string; object: any }[] {
    this.#pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : Buffer.from(chunk);
    const events: { type: string; object: any }[] = [];
    while (this.#pending.length >= 4) {
      const size = this.#pending.readUInt32BE(0);
      if (this.#pending.length < 4 + size) break;
      const event = decodeMessage(WATCH_EVENT, this.#pending.subarray(4, 4 + size)) as any;
      this.#pending = this.#pending.subarray(4 + size);
      const raw: Uint8Array | undefined = event.object?.raw;
      events.push({ type: event.type ?? '', object: raw?.length ? decodeObject(raw) : undefined });
    }
    return events;
  }
}
