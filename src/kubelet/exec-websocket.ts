import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ExecSession } from './runtime-service.ts';

/**
 * serveExec answers `kubectl exec` on the kubelet: a WebSocket with the Kubernetes channel protocol
 * (v5.channel.k8s.io or v4): one byte of stream id before each payload (0 stdin, 1 stdout, 2 stderr, 3 status),
 * the command run inside the container's namespaces, and its exit status sent as a Status on stream 3.
 */
/** The Kubernetes channel subprotocols of exec and attach, newest first. */
export const CHANNEL_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * acceptWebSocket completes a WebSocket upgrade (RFC 6455: 101 with Sec-WebSocket-Accept) with the first of protocols
 * the client offers, and returns it; with none offered (or no key) it writes nothing and returns undefined, for the
 * caller to refuse in its own words.
 */
export function acceptWebSocket(
  req: IncomingMessage,
  socket: Duplex,
  protocols: readonly string[],
): string | undefined {
  const offered = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim());
  const protocol = protocols.find((p) => offered.includes(p));
  const key = req.headers['sec-websocket-key'];
  if (!protocol || typeof key !== 'string') return undefined;
  const accept = createHash('sha1')
    .update(key + WEBSOCKET_GUID)
    .digest('base64');
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`,
  );
  return protocol;
}

export function serveExec(
  req: IncomingMessage,
  socket: Duplex,
  o: { session: ExecSession; command: readonly string[]; stdin: boolean },
): void {
  const { session } = o;
  const protocol = acceptWebSocket(req, socket, CHANNEL_PROTOCOLS);
  if (!protocol) {
    session.kill();
    socket.end(
      'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n\r\nexec needs a WebSocket with the v4 or v5 channel protocol\n',
    );
    return;
  }
  const stdin = session.stdin;
  stdin.on('error', () => undefined);
  const send = (stream: number, data: Buffer) => {
    if (!socket.writable) return;
    socket.write(frame(Buffer.concat([Buffer.from([stream]), data])));
  };
  session.stdout.on('data', (d: Buffer) => send(1, d));
  session.stderr.on('data', (d: Buffer) => send(2, d));
  if (!o.stdin) stdin.end();
  // The status goes last, once everything the command wrote was sent.
  const drained = (stream: Readable) => finished(stream).catch(() => undefined);
  Promise.all([session.exit, drained(session.stdout), drained(session.stderr)]).then(
    ([code]) => {
      const status =
        code === 0
          ? { metadata: {}, status: 'Success' }
          : {
              metadata: {},
              status: 'Failure',
              message: `command terminated with non-zero exit code: error executing command [${o.command.join(' ')}], exit code ${code}`,
              reason: 'NonZeroExitCode',
              details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
            };
      send(3, Buffer.from(JSON.stringify(status)));
      if (socket.writable) socket.end(NORMAL_CLOSE);
    },
    (error: Error) => {
      send(
        3,
        Buffer.from(
          JSON.stringify({ metadata: {}, status: 'Failure', message: error.message, reason: 'InternalError' }),
        ),
      );
      if (socket.writable) socket.end(NORMAL_CLOSE);
    },
  );
  onFrames(socket, Buffer.alloc(0), (parsed) => {
    if (parsed.opcode === 0x8) return void stdin.end();
    if (parsed.payload.length === 0) return;
    const stream = parsed.payload[0]!;
    const data = parsed.payload.subarray(1);
    if (stream === 0 && o.stdin) stdin.write(data);
    // v5: stream 255 carries "close this stream"; closing stdin ends input for the command.
    if (stream === 255 && data[0] === 0) stdin.end();
  });
  socket.on('close', () => session.kill());
  socket.on('error', () => session.kill());
}

/** NORMAL_CLOSE is a close frame with status 1000 (normal closure): kubectl treats a close without a status as an error. */
export const NORMAL_CLOSE = Buffer.from([0x88, 0x02, 0x03, 0xe8]);

/**
 * onFrames calls handle for every complete frame the client sends (after `head`, bytes read with the upgrade),
 * however the stream is cut; handle returns false to stop reading.
 */
export function onFrames(
  socket: Duplex,
  head: Buffer,
  handle: (frame: { opcode: number; payload: Buffer }) => unknown,
): void {
  let buffer = head;
  const onData = (chunk: Buffer) => {
    buffer = buffer.length ? Buffer.concat([buffer, chunk]) : chunk;
    for (;;) {
      const parsed = parseFrame(buffer);
      if (!parsed) return;
      buffer = buffer.subarray(parsed.size);
      if (handle(parsed) === false) return void socket.off('data', onData);
    }
  };
  socket.on('data', onData);
  if (head.length) onData(Buffer.alloc(0));
}

/** frame wraps a payload in one unmasked binary WebSocket frame (server to client). */
export function frame(payload: Buffer): Buffer {
  const n = payload.length;
  const head =
    n < 126
      ? Buffer.from([0x82, n])
      : n < 65536
        ? Buffer.from([0x82, 126, n >> 8, n & 255])
        : Buffer.concat([Buffer.from([0x82, 127]), bigEndian64(n)]);
  return Buffer.concat([head, payload]);
}

function bigEndian64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** parseFrame reads one (masked) client frame, or returns undefined until enough bytes arrived. */
export function parseFrame(buf: Buffer): { opcode: number; payload: Buffer; size: number } | undefined {
  if (buf.length < 2) return undefined;
  const opcode = buf[0]! & 0x0f;
  const masked = (buf[1]! & 0x80) !== 0;
  let length = buf[1]! & 0x7f;
  let offset = 2;
  if (length === 126) {
    if (buf.length < 4) return undefined;
    length = buf.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buf.length < 10) return undefined;
    length = Number(buf.readBigUInt64BE(2));
    offset = 10;
  }
  const maskOffset = offset;
  if (masked) offset += 4;
  if (buf.length < offset + length) return undefined;
  const payload = Buffer.from(buf.subarray(offset, offset + length));
  if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= buf[maskOffset + (i % 4)]!;
  return { opcode, payload, size: offset + length };
}
