import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { createReadStream, existsSync, readFileSync, statSync, watch } from 'node:fs';
import { serveExec } from './exec-websocket.ts';
import { servePortForward } from './port-forward.ts';
import { serveAttach } from './attach.ts';
import type { KubeletAuth } from './kubelet-auth.ts';
import type { Kubelet } from './kubelet.ts';

/** KubeletServing is how the kubelet's port is secured: TLS (--tls-cert-file, --client-ca-file) and who may call it. */
export interface KubeletServing {
  tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer };
  auth?: KubeletAuth;
}

/** What the server asks of the kubelet (a fake in unit tests). */
export type ServedKubelet = Pick<Kubelet, 'podLogPath' | 'exec' | 'podSandbox' | 'portForward'>;

/**
 * serveKubelet is the kubelet's server (port 10250; HTTPS with authentication and authorization when `serving` says so): `/containerLogs/<ns>/<pod>/<container>` with
 * `follow`, `tailLines` and `previous`, which the API server proxies `kubectl logs` to, and `/healthz`.
 */
export function serveKubelet(
  kubelet: ServedKubelet,
  address: string,
  port: number,
  serving: KubeletServing = {},
): Promise<http.Server> {
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://kubelet');
    if (url.pathname === '/healthz') return void res.writeHead(200).end('ok');
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (!m) return void res.writeHead(404).end('404 page not found\n');
    const [, ns, pod, container] = m.map(decodeURIComponent) as [string, string, string, string];
    const path = await kubelet.podLogPath(ns, pod, container, url.searchParams.get('previous') === 'true');
    if (!path || !existsSync(path)) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      return void res.end(`container "${container}" in pod "${pod}" is waiting to start: no log yet`);
    }
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    const tail = url.searchParams.get('tailLines');
    let text = readFileSync(path, 'utf8');
    if (tail !== null) {
      const lines = text.split('\n');
      if (lines[lines.length - 1] === '') lines.pop();
      text = lines.slice(-Number(tail)).join('\n') + (lines.length ? '\n' : '');
    }
    res.write(text);
    if (url.searchParams.get('follow') !== 'true') return void res.end();
    let offset = statSync(path).size;
    const watcher = watch(path, () => {
      const size = statSync(path).size;
      if (size > offset) {
        createReadStream(path, { start: offset, end: size - 1 }).pipe(res, { end: false });
        offset = size;
      }
    });
    res.on('close', () => watcher.close());
  };
  const upgrade = async (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://kubelet');
    const pf = /^\/portForward\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (pf) {
      const [namespace, name] = [decodeURIComponent(pf[1]!), decodeURIComponent(pf[2]!)];
      const sandbox = kubelet.podSandbox(namespace, name);
      if (!sandbox)
        return void socket.end(
          'HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n\r\npod not found or not running\n',
        );
      return servePortForward(req, socket, head, {
        netns: sandbox.netns,
        pod: name,
        uid: sandbox.uid,
        dial: (port) => kubelet.portForward(namespace, name, port),
      });
    }
    const at = /^\/attach\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (at) {
      const logPath = await kubelet.podLogPath(
        decodeURIComponent(at[1]!),
        decodeURIComponent(at[2]!),
        decodeURIComponent(at[3]!),
        false,
      );
      if (!logPath || !existsSync(logPath))
        return void socket.end(
          'HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n\r\ncontainer not found or not running\n',
        );
      return serveAttach(req, socket, { logPath });
    }
    const m = /^\/exec\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    const command = url.searchParams.getAll('command');
    const session = m
      ? await kubelet.exec(decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), decodeURIComponent(m[3]!), command)
      : undefined;
    if (!m || session === undefined) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n\r\ncontainer not found or not running\n');
      return;
    }
    serveExec(req, socket, { session, command, stdin: url.searchParams.get('stdin') === 'true' });
  };
  const safeHandle = (req: http.IncomingMessage, res: http.ServerResponse) =>
    void handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  const safeUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) =>
    void upgrade(req, socket, head).catch(() => socket.destroy());
  const auth = serving.auth;
  const guarded = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!auth) return safeHandle(req, res);
    auth.check(req).then(
      (refused) => {
        if (!refused) return safeHandle(req, res);
        res.writeHead(refused.code, { 'Content-Type': 'text/plain; charset=utf-8' }).end(refused.text);
      },
      () => res.writeHead(500).end('cannot authorize the request\n'),
    );
  };
  const server = serving.tls
    ? https.createServer(
        {
          cert: serving.tls.cert,
          key: serving.tls.key,
          ...(serving.tls.clientCa ? { ca: serving.tls.clientCa, requestCert: true, rejectUnauthorized: false } : {}),
        },
        guarded,
      )
    : http.createServer(guarded);
  server.on('upgrade', (req, socket, head) => {
    if (!auth) return safeUpgrade(req, socket, head);
    auth.check(req).then(
      (refused) => {
        if (!refused) return safeUpgrade(req, socket, head);
        socket.end(
          `HTTP/1.1 ${refused.code} ${http.STATUS_CODES[refused.code]}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(refused.text)}\r\n\r\n${refused.text}`,
        );
      },
      () => socket.destroy(),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve(server));
  });
}
