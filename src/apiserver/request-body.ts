import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { PROTOBUF_MEDIA_TYPE, decodeObject } from '../api/protobuf/protobuf.ts';
import { badRequest, requestEntityTooLarge, unsupportedMediaType } from '../api/status.ts';

/** MAX_BODY_BYTES is upstream's request size limit (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/**
 * MAX_NESTING_DEPTH caps how deeply a request body may nest objects and arrays. Go's JSON decoder stops at 10,000;
 * every served kind is typed and none nests past a few dozen levels, so anything deeper is a type error upstream
 * anyway. The cap keeps every recursive step after decoding (clone, patch, validation) far from the stack's end.
 */
export const MAX_NESTING_DEPTH = 256;

/**
 * readBody collects a request body, answering 413 past the limit. The rest of an oversized body is read and
 * dropped, so the client sees the 413 rather than a reset connection.
 */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  const chunks: Buffer[] = [];
  let size = 0;
  if (declared > MAX_BODY_BYTES) {
    req.resume();
    throw requestEntityTooLarge(MAX_BODY_BYTES);
  }
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  if (size > MAX_BODY_BYTES) throw requestEntityTooLarge(MAX_BODY_BYTES);
  return Buffer.concat(chunks);
}

/** mediaType is the Content-Type without parameters. */
export function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? 'application/json').split(';')[0]!.trim().toLowerCase();
}

/** DecodedBody is a parsed body and the JSON paths of members that appeared twice in one object (`spec.ports[0].port`). */
export interface DecodedBody {
  value: unknown;
  duplicates: string[];
}

/** decodeBody parses a JSON or YAML body into an object; malformed input is a 400 that says where. */
export function decodeBody(body: Buffer, type: string): unknown {
  return decodeBodyWithDuplicates(body, type).value;
}

/**
 * decodeBodyWithDuplicates parses a JSON or YAML body, refusing (400) nesting deeper than MAX_NESTING_DEPTH, and
 * reports duplicate members (JSON keeps the last, as Go does; strict field validation refuses them).
 */
export function decodeBodyWithDuplicates(body: Buffer, type: string): DecodedBody {
  if (type === PROTOBUF_MEDIA_TYPE) return { value: decodeProtobuf(body), duplicates: [] };
  const text = body.toString('utf8');
  if (text.trim() === '') throw badRequest('the request body is empty');
  const yaml = type === 'application/yaml' || type === 'application/apply-patch+yaml' || type === 'text/yaml';
  const json = type === 'application/json' || type.endsWith('+json') || type === '*/*';
  if (!yaml && !json) throw unsupportedMediaType(type);
  const scan = scanJson(text);
  if (scan.tooDeep)
    throw badRequest(
      `${json ? 'json' : 'error converting YAML to JSON: yaml'}: exceeded max depth of ${MAX_NESTING_DEPTH}`,
    );
  if (json) {
    try {
      return { value: JSON.parse(text), duplicates: scan.duplicates };
    } catch (error) {
      throw badRequest(`json: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  let value: unknown;
  try {
    // The yaml library caps alias expansion (maxAliasCount), which stops "billion laughs" bodies.
    value = parseYaml(text);
  } catch (error) {
    const detail = error instanceof RangeError ? 'exceeded max depth' : (error as Error).message.split('\n')[0];
    throw badRequest(`error converting YAML to JSON: yaml: ${detail}`);
  }
  if (depthOf(value) > MAX_NESTING_DEPTH)
    throw badRequest(`error converting YAML to JSON: yaml: exceeded max depth of ${MAX_NESTING_DEPTH}`);
  return { value, duplicates: [] };
}

/** depthOf measures how deeply a value nests objects and arrays, without recursion. */
export function depthOf(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > max) max = d + 1;
    if (max > MAX_NESTING_DEPTH) return max;
    for (const child of Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, d + 1]);
  }
  return max;
}

interface Scan {
  tooDeep: boolean;
  duplicates: string[];
}

/**
 * scanJson walks JSON text once, without recursion: nesting depth and duplicate members (their paths). It only
 * counts brackets outside strings, so it is also a safe depth check for YAML's flow style; JSON.parse (or the YAML
 * parser) reports syntax errors afterwards.
 */
function scanJson(text: string): Scan {
  const frames: { keys: Set<string> | undefined; path: string; index: number; key: string | undefined }[] = [];
  const duplicates: string[] = [];
  let expectKey = false;
  let i = 0;
  const n = text.length;
  const childPath = () => {
    const top = frames[frames.length - 1];
    if (!top) return '';
    if (top.keys) return top.path ? `${top.path}.${top.key}` : top.key!;
    return `${top.path}[${top.index}]`;
  };
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: find its end, honouring escapes.
      let j = i + 1;
      let escaped = false;
      for (; j < n; j++) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) {
          j++;
          escaped = true;
        } else if (d === 0x22) break;
      }
      if (j >= n) return { tooDeep: false, duplicates };
      const top = frames[frames.length - 1];
      if (expectKey && top?.keys) {
        let key = text.slice(i + 1, j);
        if (escaped) {
          try {
            key = JSON.parse(text.slice(i, j + 1));
          } catch {
            return { tooDeep: false, duplicates };
          }
        }
        if (top.keys.has(key)) duplicates.push(top.path ? `${top.path}.${key}` : key);
        top.keys.add(key);
        top.key = key;
        expectKey = false;
      }
      i = j + 1;
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      if (frames.length >= MAX_NESTING_DEPTH) return { tooDeep: true, duplicates };
      const path = childPath();
      frames.push({ keys: c === 0x7b ? new Set() : undefined, path, index: 0, key: undefined });
      expectKey = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      frames.pop();
      expectKey = false;
    } else if (c === 0x2c) {
      const top = frames[frames.length - 1];
      if (top?.keys) expectKey = true;
      else if (top) top.index++;
    }
    i++;
  }
  return { tooDeep: false, duplicates };
}

/** decodeProtobuf reads a `k8s\0`-enveloped protobuf body; undecodable bytes are a 400. */
function decodeProtobuf(body: Buffer): unknown {
  if (body.length === 0) throw badRequest('the request body is empty');
  try {
    return decodeObject(body);
  } catch (error) {
    if (error instanceof SyntaxError || error instanceof RangeError) throw badRequest(error.message);
    throw error;
  }
}
