import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import type { Stored } from '../api/objects.ts';
import { StatusError, badRequest } from '../api/status.ts';
import type { Registry } from './registry.ts';

/**
 * KubeletClientTls is how the API server authenticates to kubelets, which serve HTTPS (--kubelet-client-certificate,
 * --kubelet-client-key, --kubelet-certificate-authority); without a client certificate it calls them anonymously.
 */
export interface KubeletClientTls {
  cert?: Buffer;
  key?: Buffer;
  /** Verify the kubelet's serving certificate against this CA; absent: not verified, as upstream without the flag. */
  ca?: Buffer;
}

/** HOP_HEADERS are not passed on to the kubelet: the caller's credentials stay with the API server. */
const DROPPED_HEADERS = new Set(['authorization', 'host', 'impersonate-user', 'impersonate-group']);

/** PodsAndNodes is what the proxy reads from the registry: the pod, then its node. */
export type PodsAndNodes = Pick<Registry, 'getPod' | 'getNode'>;

function forwardedHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !DROPPED_HEADERS.has(k)));
}

/**
 * proxyToKubelet serves pods/log and pods/exec by passing the request on to the kubelet of the pod's node
 * (`/containerLogs/<ns>/<pod>/<container>` and `/exec/<ns>/<pod>/<container>`), streaming both ways, including
 * the protocol upgrade exec uses.
 */
export async function proxyToKubelet(
  req: IncomingMessage,
  res: ServerResponse,
  o: {
    registry: PodsAndNodes;
    namespace: string;
    pod: string;
    subresource: 'log' | 'exec';
    query: URLSearchParams;
    tls?: KubeletClientTls;
  },
): Promise<void> {
  const pod = await o.registry.getPod(o.namespace, o.pod);
  const containers = pod.spec?.containers ?? [];
  const container = o.query.get('container') ?? (containers.length === 1 ? containers[0].name : undefined);
  if (!container)
    throw badRequest(
      `a container name must be specified for pod ${o.pod}, choose one of: [${containers.map((c) => c.name).join(' ')}]`,
    );
  if (!pod.spec?.nodeName) throw badRequest(`pod ${o.pod} does not have a host assigned`);
  const node = await o.registry.getNode(pod.spec.nodeName);
  const { ip, port } = kubeletAddress(node);
  if (!ip) throw badRequest(`node ${node.metadata.name} has no InternalIP`);
  const query = new URLSearchParams(o.query);
  query.delete('container');
  const path = `/${o.subresource === 'log' ? 'containerLogs' : 'exec'}/${encodeURIComponent(o.namespace)}/${encodeURIComponent(o.pod)}/${encodeURIComponent(container)}?${query}`;
  await new Promise<void>((resolve, reject) => {
    const headers = { ...forwardedHeaders(req.headers), host: `${ip}:${port}` };
    const upstream = https.request({
      host: ip,
      port,
      path,
      method: req.method,
      headers,
      cert: o.tls?.cert,
      key: o.tls?.key,
      ca: o.tls?.ca,
      rejectUnauthorized: o.tls?.ca !== undefined,
      agent: false,
    });
    upstream.on('response', (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
      r.on('end', resolve);
      r.on('error', reject);
      res.on('close', () => r.destroy());
    });
    upstream.on('upgrade', (r, socket, head) => {
      const client = res.socket!;
      const lines = [
        `HTTP/1.1 ${r.statusCode} ${r.statusMessage}`,
        ...Object.entries(r.headers).flatMap(([k, v]) =>
          Array.isArray(v) ? v.map((x) => `${k}: ${x}`) : [`${k}: ${v}`],
        ),
      ];
      client.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) client.write(head);
      socket.pipe(client);
      client.pipe(socket);
      socket.on('close', () => {
        client.destroy();
        resolve();
      });
      client.on('close', () => socket.destroy());
    });
    upstream.on('error', (error) => reject(badRequest(`error dialing backend: ${error.message}`)));
    req.pipe(upstream);
  });
}

/**
 * proxyExecUpgrade passes a protocol-upgrading pods/exec request (kubectl's WebSocket) to the pod's kubelet and then
 * splices the two connections; errors before the upgrade are answered as a Status.
 */
export async function proxyExecUpgrade(
  req: http.IncomingMessage,
  socket: import('node:stream').Duplex,
  head: Buffer,
  registry: PodsAndNodes,
  tls?: KubeletClientTls,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://apiserver');
  const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|attach|portforward)$/.exec(url.pathname);
  const fail = (code: number, message: string) => {
    const body = JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason: code === 404 ? 'NotFound' : 'BadRequest',
      code,
    });
    socket.end(
      `HTTP/1.1 ${code} ${http.STATUS_CODES[code]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  };
  if (!m) return fail(404, 'the server could not find the requested resource');
  const [, namespace, name, subresource] = m.map(decodeURIComponent) as [
    string,
    string,
    string,
    'exec' | 'attach' | 'portforward',
  ];
  let pod: Stored<Pod>;
  let node: Stored<Node>;
  try {
    pod = await registry.getPod(namespace, name);
    if (!pod.spec?.nodeName) return fail(400, `pod ${name} does not have a host assigned`);
    node = await registry.getNode(pod.spec.nodeName);
  } catch (error) {
    return fail(
      error instanceof StatusError ? error.code : 500,
      error instanceof Error ? error.message : String(error),
    );
  }
  const containers = pod.spec?.containers ?? [];
  const container =
    url.searchParams.get('container') ??
    (containers.length === 1 || subresource === 'attach' ? containers[0]?.name : undefined);
  if (!container && subresource !== 'portforward')
    return fail(
      400,
      `a container name must be specified for pod ${name}, choose one of: [${containers.map((c) => c.name).join(' ')}]`,
    );
  const { ip, port } = kubeletAddress(node);
  // Without an address, tls.connect would dial localhost: answer as the log/exec path does instead.
  if (!ip) return fail(400, `node ${node.metadata.name} has no InternalIP`);
  const query = new URLSearchParams(url.searchParams);
  query.delete('container');
  const upstream = tlsConnect({
    host: ip,
    port,
    cert: tls?.cert,
    key: tls?.key,
    ca: tls?.ca,
    rejectUnauthorized: tls?.ca !== undefined,
  });
  upstream.on('secureConnect', () => {
    const headers = Object.entries(forwardedHeaders(req.headers)).flatMap(([k, v]) =>
      Array.isArray(v) ? v.map((x) => `${k}: ${x}`) : [`${k}: ${v}`],
    );
    // The kubelet's paths: /exec|/attach/<ns>/<pod>/<container>, /portForward/<ns>/<pod> (the pod's network, no container).
    const target =
      subresource === 'portforward'
        ? `/portForward/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`
        : `/${subresource}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(container!)}`;
    upstream.write(
      [`${req.method} ${target}?${query} HTTP/1.1`, `host: ${ip}:${port}`, ...headers, '', ''].join('\r\n'),
    );
    if (head.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.on('error', (error) => fail(502, `error dialing backend: ${error.message}`));
  socket.on('error', () => upstream.destroy());
  socket.on('close', () => upstream.destroy());
}

/** kubeletAddress is where a node's kubelet listens: its InternalIP and the port it reported (10250 by default). */
export function kubeletAddress(node: Node): { ip: string | undefined; port: number } {
  const ip = (node.status?.addresses ?? []).find((a) => a.type === 'InternalIP')?.address;
  return { ip, port: node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 10250 };
}
