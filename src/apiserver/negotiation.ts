import type { IncomingMessage, ServerResponse } from 'node:http';
import { stringify as toYaml } from 'yaml';
import { isPlainObject } from '../api/own-properties.ts';
import { PROTOBUF_MEDIA_TYPE, encodeObject, encodeWatchFrame, protobufMessageOf } from '../api/protobuf/protobuf.ts';
import { notAcceptable as notAcceptableStatus, type StatusError } from '../api/status.ts';

/**
 * Content negotiation as upstream's apiserver does it (k8s.io/apiserver/pkg/endpoints/handlers/negotiation): the
 * Accept clauses, best q first and specific before wildcard, are tried in order; the first one the server can
 * produce wins. Served: JSON, YAML and protobuf for objects; JSON and protobuf for watch streams; the `as=Table` and
 * `as=PartialObjectMetadata[List]` transforms (meta.k8s.io v1 and v1beta1), Table in JSON/YAML only, as upstream
 * (Table has no protobuf message). No acceptable clause is 406 NotAcceptable.
 */
export type Encoding = 'json' | 'yaml' | 'protobuf';

export interface Negotiated {
  encoding: Encoding;
  /** The transform asked for with `as=`: the answer is a Table or PartialObjectMetadata of that meta.k8s.io version. */
  transform?: { kind: 'Table' | 'PartialObjectMetadata' | 'PartialObjectMetadataList'; version: 'v1' | 'v1beta1' };
}

const MEDIA_TYPES: Record<Encoding, string> = {
  json: 'application/json',
  yaml: 'application/yaml',
  protobuf: PROTOBUF_MEDIA_TYPE,
};
const OBJECT_ENCODINGS: Encoding[] = ['json', 'yaml', 'protobuf'];
const STREAM_ENCODINGS: Encoding[] = ['json', 'protobuf'];

interface Clause {
  type: string;
  subtype: string;
  q: number;
  params: Map<string, string>;
}

/** parseAccept splits an Accept header into clauses ordered as upstream's goautoneg orders them. */
export function parseAccept(header: string | undefined): Clause[] {
  const clauses: Clause[] = [];
  for (const part of (header ?? '').split(',')) {
    const [range, ...rest] = part.split(';').map((s) => s.trim());
    if (!range) continue;
    const [type, subtype = '*'] = range.toLowerCase().split('/');
    const params = new Map<string, string>();
    let q = 1;
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq < 0) continue;
      const key = p.slice(0, eq).trim().toLowerCase();
      const value = p
        .slice(eq + 1)
        .trim()
        .replace(/^"(.*)"$/, '$1');
      if (key === 'q') q = Number(value);
      else params.set(key, value);
    }
    if (!Number.isNaN(q) && q > 0) clauses.push({ type: type!, subtype, q, params });
  }
  const rank = (c: Clause) => (c.type === '*' ? 2 : c.subtype === '*' ? 1 : 0);
  return clauses
    .map((c, i) => ({ c, i }))
    .sort((a, b) => b.c.q - a.c.q || rank(a.c) - rank(b.c) || a.i - b.i)
    .map((x) => x.c);
}

/**
 * negotiate picks the encoding (and transform) of a response from the request's Accept header; `stream` for watch.
 * Throws 406 when no clause can be served. An absent or empty Accept means JSON.
 */
export function negotiate(req: IncomingMessage, options: { stream?: boolean } = {}): Negotiated {
  const header = req.headers.accept;
  if (header === undefined || header.trim() === '') return { encoding: 'json' };
  const encodings = options.stream ? STREAM_ENCODINGS : OBJECT_ENCODINGS;
  for (const clause of parseAccept(header)) {
    for (const encoding of encodings) {
      const [type, subtype] = MEDIA_TYPES[encoding].split('/') as [string, string];
      if (clause.type !== '*' && clause.type !== type) continue;
      if (clause.subtype !== '*' && clause.subtype !== subtype) continue;
      const chosen = acceptParams(clause, encoding, options.stream === true);
      if (chosen) return chosen;
    }
  }
  throw notAcceptable(encodings);
}

function acceptParams(clause: Clause, encoding: Encoding, stream: boolean): Negotiated | undefined {
  const streamParam = clause.params.get('stream');
  if (streamParam !== undefined && streamParam !== '' && (!stream || streamParam !== 'watch')) return undefined;
  const as = clause.params.get('as');
  if (as === undefined || as === '') return { encoding };
  const g = clause.params.get('g');
  const v = clause.params.get('v');
  if (g !== 'meta.k8s.io' || (v !== 'v1' && v !== 'v1beta1')) return undefined;
  if (as === 'Table')
    return encoding === 'protobuf' ? undefined : { encoding, transform: { kind: 'Table', version: v } };
  if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList')
    return { encoding, transform: { kind: as, version: v } };
  return undefined;
}

function notAcceptable(encodings: Encoding[]): StatusError {
  return notAcceptableStatus(
    `only the following media types are accepted: ${encodings.map((e) => MEDIA_TYPES[e]).join(', ')}`,
  );
}

/**
 * writeBody answers with an object in the negotiated encoding. A kind that has no protobuf message (discovery
 * documents, Table) is answered in JSON, which every Kubernetes client also accepts.
 */
export function writeBody(res: ServerResponse, code: number, body: unknown, encoding: Encoding): void {
  let bytes: Buffer;
  let type = MEDIA_TYPES[encoding];
  if (encoding === 'protobuf' && isPlainObject(body) && protobufMessageOf(body)) bytes = encodeObject(body);
  else if (encoding === 'yaml') bytes = Buffer.from(toYaml(body));
  else {
    bytes = Buffer.from(JSON.stringify(body));
    type = MEDIA_TYPES.json;
  }
  res.writeHead(code, { 'Content-Type': type, 'Content-Length': bytes.length });
  res.end(bytes);
}

/** WatchEncoding is how a watch stream is written: its content type and one event's bytes. */
export interface WatchEncoding {
  contentType: string;
  frame(type: string, object: unknown): string | Buffer;
}

/** watchEncoding returns the stream framing of an encoding: JSON lines or length-prefixed protobuf WatchEvents. */
export function watchEncoding(encoding: Encoding): WatchEncoding {
  if (encoding === 'protobuf')
    return {
      contentType: `${PROTOBUF_MEDIA_TYPE};stream=watch`,
      frame: (type, object) => encodeWatchFrame(type, object),
    };
  return { contentType: 'application/json', frame: (type, object) => `${JSON.stringify({ type, object })}\n` };
}
