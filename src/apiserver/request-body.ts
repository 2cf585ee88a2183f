import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { PROTOBUF_MEDIA_TYPE, decodeObject } from '../api/protobuf/protobuf.ts';
import { badRequest, requestEntityTooLarge, unsupportedMediaType } from '../api/status.ts';

/** MAX_BODY_BYTES is upstream's request size limit (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/**
 * readBody collects a request body, answering 413 past the limit. The rest of an oversized body is read and
 * dropped, so the client sees the 413 rather than a reset connection.
 */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
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

/** decodeBody parses a JSON or YAML body into an object; malformed input is a 400 that says where. */
export function decodeBody(body: Buffer, type: string): any {
  if (type === PROTOBUF_MEDIA_TYPE) return decodeProtobuf(body);
  const text = body.toString('utf8');
  if (text.trim() === '') throw badRequest('the request body is empty');
  const yaml = type === 'application/yaml' || type === 'application/apply-patch+yaml' || type === 'text/yaml';
  const json = type === 'application/json' || type.endsWith('+json') || type === '*/*';
  if (!yaml && !json) throw unsupportedMediaType(type);
  try {
    return yaml ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    const detail = (error as Error).message.split('\n')[0];
    throw badRequest(yaml ? `error converting YAML to JSON: yaml: ${detail}` : `json: ${detail}`);
  }
}

/** decodeProtobuf reads a `k8s\0`-enveloped protobuf body; undecodable bytes are a 400. */
function decodeProtobuf(body: Buffer): any {
  if (body.length === 0) throw badRequest('the request body is empty');
  try {
    return decodeObject(body);
  } catch (error) {
    if (error instanceof SyntaxError || error instanceof RangeError) throw badRequest(error.message);
    throw error;
  }
}
