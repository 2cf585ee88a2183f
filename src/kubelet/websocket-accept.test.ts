import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import test from 'node:test';
import { acceptWebSocket, CHANNEL_PROTOCOLS } from './exec-websocket.ts';

const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

function written(socket: PassThrough): string {
  return String(socket.read() ?? '');
}

test("acceptWebSocket() answers 101 with RFC 6455's accept key and the newest protocol both sides have", () => {
  const socket = new PassThrough();
  const protocol = acceptWebSocket(
    request({
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-protocol': 'v4.channel.k8s.io, v5.channel.k8s.io',
    }),
    socket,
    CHANNEL_PROTOCOLS,
  );
  assert.equal(protocol, 'v5.channel.k8s.io');
  const answer = written(socket);
  assert.match(answer, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
  assert.match(answer, /\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/);
  assert.match(answer, /\r\nSec-WebSocket-Protocol: v5\.channel\.k8s\.io\r\n\r\n$/);
});

test('acceptWebSocket() writes nothing when no offered protocol fits or the key is missing', () => {
  for (const headers of [
    { 'sec-websocket-key': 'a2V5', 'sec-websocket-protocol': 'v3.channel.k8s.io' },
    { 'sec-websocket-protocol': 'v4.channel.k8s.io' },
  ] as Record<string, string>[]) {
    const socket = new PassThrough();
    assert.equal(acceptWebSocket(request(headers), socket, CHANNEL_PROTOCOLS), undefined);
    assert.equal(written(socket), '');
  }
});
