import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { resourceByName } from '../api/resources.ts';
import { isStatusError } from '../api/status.ts';
import type { Logger } from '../log/klog.ts';
import { nthAddress } from '../net/ipv4.ts';
import { createApiHandler } from './http-server.ts';
import { ApiServerMetrics } from './metrics.ts';
import { proxyExecUpgrade } from './kubelet-proxy.ts';
import { Registry } from './registry.ts';
import { ServiceIps } from './service-ips.ts';
import { openStore } from './storage/open-store.ts';

/** ApiServerConfig is what `tskube apiserver` runs with (upstream's flag names in comments). */
export interface ApiServerConfig {
  etcdServers: string[];
  dataDir: string;
  serviceClusterIpRange: string;
  serviceNodePortRange: string;
  advertiseAddress: string;
  /** --bind-address/--secure-port: TLS with a self-signed certificate; port 0 turns it off. */
  bindAddress: string;
  securePort: number;
  tls?: { cert: Buffer; key: Buffer };
  /** --insecure-bind-address/--insecure-port: plain HTTP, only when asked for. */
  insecureBindAddress?: string;
  insecurePort: number;
  versionMinor: string;
  /** Revisions of history the embedded store keeps for watches (older resourceVersions get 410 Gone). */
  storageHistory?: number;
  logger: Logger;
}

export interface RunningApiServer {
  /** Ports actually bound (useful when 0 asked the kernel to choose). */
  insecurePort?: number;
  securePort?: number;
  close(): Promise<void>;
}

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** startApiServer opens the store, rebuilds allocations, creates the bootstrap objects and starts listening. */
export async function startApiServer(config: ApiServerConfig): Promise<RunningApiServer> {
  const log = config.logger;
  const metrics = new ApiServerMetrics();
  const store = metrics.instrumentStore(await openStore({ etcdServers: config.etcdServers, dataDir: config.dataDir, history: config.storageHistory }));
  const serviceIps = new ServiceIps(config.serviceClusterIpRange, config.serviceNodePortRange);
  const registry = new Registry(store, serviceIps);
  const services = resourceByName('', 'services')!;
  serviceIps.rebuild((await registry.list(services, {})).items);
  await bootstrap(registry, config);
  const handler = createApiHandler({ registry, logger: log, versionMinor: config.versionMinor, serverAddress: `${config.advertiseAddress}:${config.securePort || config.insecurePort}`, metrics });
  const servers: http.Server[] = [];
  const running: RunningApiServer = {
    async close() {
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
      await store.close();
    },
  };
  if (config.insecureBindAddress !== undefined) {
    const server = http.createServer({ keepAliveTimeout: 60_000 }, handler);
    server.on('upgrade', (req, socket, head) => void proxyExecUpgrade(req, socket, head, registry));
    answerClientErrors(server);
    running.insecurePort = await listen(server, config.insecureBindAddress, config.insecurePort);
    servers.push(server);
    log.info('Serving insecurely', { address: `${config.insecureBindAddress}:${running.insecurePort}` });
  }
  if (config.securePort > 0 && config.tls) {
    const server = https.createServer({ cert: config.tls.cert, key: config.tls.key, keepAliveTimeout: 60_000 }, handler);
    server.on('upgrade', (req, socket, head) => void proxyExecUpgrade(req, socket, head, registry));
    answerClientErrors(server);
    running.securePort = await listen(server, config.bindAddress, config.securePort);
    servers.push(server);
    log.info('Serving securely', { address: `${config.bindAddress}:${running.securePort}` });
  }
  return running;
}

/**
 * answerClientErrors answers requests Node's HTTP parser refuses (header block past maxHeaderSize, a malformed
 * request line) with a Status body, as every other refusal, instead of Node's bare status line.
 */
function answerClientErrors(server: http.Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
    const code = tooLarge ? 431 : error.code === 'HPE_URI_TOO_LONG' ? 414 : 400;
    const status = {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code,
      reason: code === 400 ? 'BadRequest' : 'RequestEntityTooLarge',
      message: tooLarge ? `Request Header Fields Too Large: limit is ${http.maxHeaderSize}` : code === 414 ? 'URI Too Long' : `Bad Request: ${error.code ?? 'malformed request'}`,
    };
    const body = JSON.stringify(status);
    const text = code === 431 ? 'Request Header Fields Too Large' : code === 414 ? 'URI Too Long' : 'Bad Request';
    socket.end(`HTTP/1.1 ${code} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
}

function listen(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

/** bootstrap creates what every cluster has: the system namespaces and the `kubernetes` Service with its endpoints. */
async function bootstrap(registry: Registry, config: ApiServerConfig): Promise<void> {
  const ensure = async (resource: string, group: string, namespace: string | undefined, object: any) => {
    try {
      await registry.create(resourceByName(group, resource)!, namespace, object, { dryRun: false });
    } catch (error) {
      if (!isStatusError(error, 409)) throw error;
    }
  };
  for (const name of SYSTEM_NAMESPACES) await ensure('namespaces', '', undefined, { metadata: { name } });
  const port = config.securePort || 6443;
  const kubernetesIp = nthAddress(serviceIpsCidr(registry), 1);
  await ensure('services', '', 'default', {
    metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: kubernetesIp, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }], sessionAffinity: 'None' },
  });
  const endpoints = { metadata: { name: 'kubernetes', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets: [{ addresses: [{ ip: config.advertiseAddress }], ports: [{ name: 'https', port, protocol: 'TCP' }] }] };
  const slice = {
    metadata: { name: 'kubernetes', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [config.advertiseAddress], conditions: { ready: true } }],
    ports: [{ name: 'https', port, protocol: 'TCP' }],
  };
  await reconcile(registry, 'endpoints', '', endpoints);
  await reconcile(registry, 'endpointslices', 'discovery.k8s.io', slice);
}

/** reconcile creates or updates an object the API server owns, so a changed advertise address is picked up. */
async function reconcile(registry: Registry, resource: string, group: string, object: any): Promise<void> {
  const info = resourceByName(group, resource)!;
  try {
    const current = await registry.get(info, 'default', object.metadata.name);
    await registry.update(info, 'default', object.metadata.name, { ...object, metadata: { ...object.metadata, resourceVersion: current.metadata.resourceVersion } }, { dryRun: false });
  } catch (error) {
    if (!isStatusError(error, 404)) throw error;
    await registry.create(info, 'default', object, { dryRun: false });
  }
}

function serviceIpsCidr(registry: Registry) {
  return registry.serviceIps.ranges.serviceCidr;
}
