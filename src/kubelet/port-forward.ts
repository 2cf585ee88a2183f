import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { acceptWebSocket, frame, NORMAL_CLOSE, onFrames } from './exec-websocket.ts';
import { SpdySession } from './spdy-session.ts';
import type { ExecSession } from './runtime-service.ts';

const PROTOCOL = 'portforward.k8s.io';
const TUNNELED = `SPDY/3.1+${PROTOCOL}`;

/**
 * servePortForward answers `kubectl port-forward` on the kubelet: SPDY/3.1 with the portforward.k8s.io protocol,
 * either straight on the upgraded connection (kubectl up to 1.30, and the fallback of later ones) or tunnelled in
 * WebSocket binary messages (`SPDY/3.1+portforward.k8s.io`, kubectl 1.31+). Each forwarded connection is a pair of
 * streams with the same `requestID`: `data` carries the bytes, `error` the failure text; the bytes go to
 * localhost:<port> inside the pod's network namespace.
 */
export interface PortForwardTarget {
  /** The pod's network namespace, named in errors as upstream names it. */
  netns: string;
  pod: string;
  uid: string;
  /** dial connects to localhost:port in the pod (the runtime's PortForward). */
  dial: (port: number) => Promise<ExecSession>;
}

export function servePortForward(req: IncomingMessage, socket: Duplex, head: Buffer, o: PortForwardTarget): void {
  const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
  let session: SpdySession;
  if (upgrade === 'websocket') {
    if (!acceptWebSocket(req, socket, [TUNNELED]))
      return refuse(socket, `port forwarding over WebSocket needs the ${TUNNELED} subprotocol`);
    session = new SpdySession((chunk) => socket.writable && socket.write(frame(chunk)));
    onFrames(socket, head, (parsed) => {
      if (parsed.opcode === 0x8) {
        socket.end(NORMAL_CLOSE);
        return false;
      }
      if (parsed.opcode === 0x9)
        socket.write(Buffer.concat([Buffer.from([0x8a, parsed.payload.length]), parsed.payload]));
      else if (parsed.opcode === 0x2 || parsed.opcode === 0x0) session!.receive(parsed.payload);
    });
  } else if (upgrade.startsWith('spdy/3.1')) {
    const offered = String(req.headers['x-stream-protocol-version'] ?? '')
      .split(',')
      .map((p) => p.trim());
    if (!offered.includes(PROTOCOL)) return refuse(socket, `port forwarding needs the ${PROTOCOL} stream protocol`);
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${PROTOCOL}\r\n\r\n`,
    );
    session = new SpdySession((chunk) => socket.writable && socket.write(chunk));
    socket.on('data', (chunk: Buffer) => session.receive(chunk));
    if (head.length) session.receive(head);
  } else {
    return refuse(socket, 'port forwarding needs an upgrade to SPDY/3.1 or WebSocket');
  }
  forward(session, o, () => socket.end());
  socket.on('close', () => session.close());
  socket.on('error', () => session.close());
}

interface Pair {
  port: number;
  error?: number;
  data?: number;
  /** The connection into the pod, once dialled. */
  conn?: ExecSession;
  /** What the client sent before the connection was up, and whether it ended its side. */
  early: Buffer[];
  ended: boolean;
  closed: boolean;
}

/** forward pairs a session's streams by requestID and runs one connection into the pod per pair. */
function forward(session: SpdySession, o: PortForwardTarget, end: () => void): void {
  const pairs = new Map<string, Pair>();
  const byStream = new Map<number, Pair>();
  session.on('stream', ({ id, headers }) => {
    session.reply(id);
    const requestId = headers.requestid ?? String(id);
    const port = Number(headers.port);
    const pair = pairs.get(requestId) ?? { port, early: [], ended: false, closed: false };
    pairs.set(requestId, pair);
    byStream.set(id, pair);
    if (headers.streamtype === 'error') pair.error = id;
    else if (headers.streamtype === 'data') pair.data = id;
    if (pair.error !== undefined && pair.data !== undefined) void start(pair);
  });
  const start = async (pair: Pair) => {
    const fail = (message: string) => {
      session.data(
        pair.error!,
        Buffer.from(`error forwarding port ${pair.port} to pod ${o.pod}, uid ${o.uid}: ${message}`),
        true,
      );
      session.data(pair.data!, Buffer.alloc(0), true);
    };
    if (!Number.isInteger(pair.port) || pair.port < 1 || pair.port > 65535) return fail(`invalid port ${pair.port}`);
    let conn: ExecSession;
    try {
      conn = await o.dial(pair.port);
    } catch (error) {
      return fail(error instanceof Error ? error.message : String(error));
    }
    if (pair.closed) return conn.kill();
    pair.conn = conn;
    let sent = false;
    let stderr = '';
    conn.stdout.on('data', (d: Buffer) => {
      sent = true;
      session.data(pair.data!, d);
    });
    conn.stderr.on('data', (d: Buffer) => (stderr += d));
    conn.stdin.on('error', () => undefined);
    for (const chunk of pair.early) conn.stdin.write(chunk);
    if (pair.ended) conn.stdin.end();
    const code = await conn.exit.catch((error: Error) => {
      stderr ||= error.message;
      return 1;
    });
    pair.conn = undefined;
    if (code !== 0 && !sent)
      return fail(
        `failed to connect to localhost:${pair.port} inside namespace "${o.netns}": ${stderr.trim().replace(/^nc: /, '') || `exit status ${code}`}`,
      );
    session.data(pair.error!, Buffer.alloc(0), true);
    session.data(pair.data!, Buffer.alloc(0), true);
  };
  session.on('data', (id, data) => {
    const pair = byStream.get(id);
    if (pair?.data !== id) return;
    if (pair.conn) pair.conn.stdin.write(data);
    else pair.early.push(data);
  });
  session.on('end', (id) => {
    const pair = byStream.get(id);
    if (pair?.data !== id) return;
    pair.ended = true;
    pair.conn?.stdin.end();
  });
  const close = (pair: Pair | undefined) => {
    if (!pair) return;
    pair.closed = true;
    pair.conn?.kill();
  };
  session.on('reset', (id) => close(byStream.get(id)));
  session.on('close', () => {
    for (const pair of pairs.values()) close(pair);
    end();
  });
}

function refuse(socket: Duplex, message: string): void {
  socket.end(
    `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`,
  );
}
