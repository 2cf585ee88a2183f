import { connect as tcpConnect } from 'node:net';

/**
 * The network probes as the kubelet runs them, from whatever network namespace this process is in (`tskube probe`
 * runs them inside the pod's): tcpSocket (the connect succeeds), httpGet (a status in [200, 400), redirects to the
 * same host followed) and grpc (grpc.health.v1.Health/Check answers SERVING).
 */
export interface ProbeOutcome {
  ok: boolean;
  /** What happened, as upstream's prober words its output (`dial tcp ...: connect: connection refused`). */
  output: string;
}

/** TCP_PROBE, HTTP_PROBE and GRPC_PROBE are the network probe kinds `tskube probe` takes. */
export type NetworkProbe =
  | { kind: 'tcp'; host: string; port: number; timeoutMs: number }
  | {
      kind: 'http';
      scheme: 'http' | 'https';
      host: string;
      port: number;
      path: string;
      headers: [string, string][];
      timeoutMs: number;
    }
  | { kind: 'grpc'; host: string; port: number; service: string; timeoutMs: number };

/** checkNetworkProbe runs one network probe with its timeout. */
export function checkNetworkProbe(probe: NetworkProbe): Promise<ProbeOutcome> {
  switch (probe.kind) {
    case 'tcp':
      return checkTcp(probe.host, probe.port, probe.timeoutMs);
    case 'http':
      return checkHttp(probe, probe.timeoutMs, 0);
    case 'grpc':
      return checkGrpc(probe.host, probe.port, probe.service, probe.timeoutMs);
    default:
      return Promise.resolve({
        ok: false,
        output: `unknown probe kind ${JSON.stringify((probe as { kind: unknown }).kind)}`,
      });
  }
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function checkTcp(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, output: `dial tcp ${hostPort(host, port)}: i/o timeout` });
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: true, output: '' });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ok: false, output: `dial tcp ${hostPort(host, port)}: connect: ${errnoText(error)}` });
    });
  });
}

function errnoText(error: NodeJS.ErrnoException): string {
  if (error.code === 'ECONNREFUSED') return 'connection refused';
  if (error.code === 'EHOSTUNREACH') return 'no route to host';
  if (error.code === 'ENETUNREACH') return 'network is unreachable';
  return error.message;
}

const MAX_REDIRECTS = 10;
/** Upstream reads at most 10 KiB of a probe's body. */
const MAX_BODY = 10 * 1024;

// The HTTP modules load only for the probes that use them: `tskube probe` starts once per probe run.
async function checkHttp(
  probe: Extract<NetworkProbe, { kind: 'http' }>,
  timeoutMs: number,
  redirects: number,
): Promise<ProbeOutcome> {
  const { request } = probe.scheme === 'https' ? await import('node:https') : await import('node:http');
  return new Promise((resolve) => {
    const headers: Record<string, string> = { 'User-Agent': 'kube-probe/1.33', Accept: '*/*' };
    for (const [k, v] of probe.headers) headers[k] = v;
    const url = `${probe.scheme}://${hostPort(probe.host, probe.port)}${probe.path.startsWith('/') ? '' : '/'}${probe.path}`;
    const req = request(url, { method: 'GET', headers, timeout: timeoutMs, rejectUnauthorized: false }, (res) => {
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) res.destroy();
      });
      const status = res.statusCode ?? 0;
      res.on('close', () => {
        const location = res.headers.location;
        if (status >= 300 && status < 400 && location && redirects < MAX_REDIRECTS) {
          const next = new URL(location, url);
          // Upstream follows a redirect only to the same host; any other redirect counts as success with a warning.
          if (
            next.hostname.replace(/^\[|\]$/g, '') === probe.host &&
            (next.protocol === 'http:' || next.protocol === 'https:')
          ) {
            const port = Number(next.port || (next.protocol === 'https:' ? 443 : 80));
            void checkHttp(
              {
                ...probe,
                scheme: next.protocol === 'https:' ? 'https' : 'http',
                port,
                path: `${next.pathname}${next.search}`,
              },
              timeoutMs,
              redirects + 1,
            ).then(resolve);
            return;
          }
        }
        resolve(
          status >= 200 && status < 400
            ? { ok: true, output: '' }
            : { ok: false, output: `HTTP probe failed with statuscode: ${status}` },
        );
      });
      res.resume();
    });
    req.on('timeout', () =>
      req.destroy(
        new Error(`Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`),
      ),
    );
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({
        ok: false,
        output: error.code
          ? `Get "${url}": dial tcp ${hostPort(probe.host, probe.port)}: connect: ${errnoText(error)}`
          : error.message,
      }),
    );
    req.end();
  });
}

/** HEALTH_SERVING is grpc.health.v1.HealthCheckResponse.ServingStatus SERVING. */
const HEALTH_SERVING = 1;

async function checkGrpc(host: string, port: number, service: string, timeoutMs: number): Promise<ProbeOutcome> {
  const { connect: http2Connect } = await import('node:http2');
  return new Promise((resolve) => {
    let done = false;
    const finish = (outcome: ProbeOutcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      session.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(
      () => finish({ ok: false, output: `timeout: health rpc did not complete within ${timeoutMs}ms` }),
      timeoutMs,
    );
    const session = http2Connect(`http://${hostPort(host, port)}`);
    session.on('error', (error: NodeJS.ErrnoException) =>
      finish({
        ok: false,
        output: `timeout: failed to connect service "${hostPort(host, port)}" within ${timeoutMs / 1000}s: ${errnoText(error)}`,
      }),
    );
    const req = session.request({
      ':method': 'POST',
      ':path': '/grpc.health.v1.Health/Check',
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': 'kube-probe/1.33',
    });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', (error) => finish({ ok: false, output: `rpc error: ${error.message}` }));
    req.on('trailers', (trailers) => {
      const code = Number(trailers['grpc-status'] ?? 0);
      if (code !== 0)
        finish({ ok: false, output: `rpc error: code = ${code} desc = ${trailers['grpc-message'] ?? ''}` });
    });
    req.on('end', () => {
      const status = decodeHealthResponse(Buffer.concat(chunks));
      finish(
        status === HEALTH_SERVING
          ? { ok: true, output: '' }
          : { ok: false, output: `service unhealthy (responded with "${SERVING_STATUS[status ?? 0] ?? status}")` },
      );
    });
    req.end(encodeHealthRequest(service));
  });
}

const SERVING_STATUS: Record<number, string> = { 0: 'UNKNOWN', 1: 'SERVING', 2: 'NOT_SERVING', 3: 'SERVICE_UNKNOWN' };

/** encodeHealthRequest frames a HealthCheckRequest{service} as one gRPC message (no compression). */
export function encodeHealthRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  const message = name.length ? Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]) : Buffer.alloc(0);
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

/** decodeHealthResponse reads the status of the first gRPC message, a HealthCheckResponse; undefined if malformed. */
export function decodeHealthResponse(data: Buffer): number | undefined {
  if (data.length < 5 || data[0] !== 0) return undefined;
  const length = data.readUInt32BE(1);
  const message = data.subarray(5, 5 + length);
  let i = 0;
  let status = 0;
  while (i < message.length) {
    const tag = message[i++]!;
    const [value, next] = readVarint(message, i);
    if (next < 0) return undefined;
    i = next;
    if (tag === 0x08) status = value;
    else if ((tag & 7) === 2) i += value;
    else if ((tag & 7) !== 0) return undefined;
  }
  return status;
}

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  bytes.push(n);
  return Buffer.from(bytes);
}

function readVarint(buf: Buffer, start: number): [number, number] {
  let value = 0;
  let shift = 0;
  for (let i = start; i < buf.length && shift < 35; i++) {
    value |= (buf[i]! & 0x7f) << shift;
    shift += 7;
    if ((buf[i]! & 0x80) === 0) return [value >>> 0, i + 1];
  }
  return [0, -1];
}
