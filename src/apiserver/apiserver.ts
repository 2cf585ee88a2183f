import http from 'node:http';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Stored } from '../api/objects.ts';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { resourceByName } from '../api/resources.ts';
import { badRequest, forbiddenError, isStatusError, unauthorized, type StatusError } from '../api/status.ts';
import type { Logger } from '../log/klog.ts';
import { nthAddress } from '../net/ipv4.ts';
import { admission } from './admission.ts';
import { Authenticator, type LookedUp, type ObjectLookup } from './auth/authenticator.ts';
import { Authorizer, type AuthorizationMode } from './auth/authorizer.ts';
import { CLUSTER_ROLES, CLUSTER_ROLE_BINDINGS, ROLES, ROLE_BINDINGS } from './auth/bootstrap-policy.ts';
import { NodeAuthorizer } from './auth/node-authorizer.ts';
import { forbiddenMessage, requestAttributes } from './auth/request-attributes.ts';
import { impersonation, isImpersonateHeader } from './auth/impersonation.ts';
import { ServiceAccountTokens } from './auth/service-account-tokens.ts';
import { UNSECURED, type UserInfo } from './auth/user.ts';
import { createApiHandler } from './http-server.ts';
import { ApiServerMetrics } from './metrics.ts';
import { proxyExecUpgrade, type KubeletClientTls } from './kubelet-proxy.ts';
import { type ApiObject, Registry } from './registry.ts';
import type { BindingObject, RoleObject } from './auth/rbac.ts';
import { ServiceIps } from './service-ips.ts';
import { openStore } from './storage/open-store.ts';
import { timestamp } from '../api/time.ts';

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
  /** --client-ca-file: client certificates signed by it authenticate (CN user, O groups). */
  clientCa?: Buffer;
  /** --anonymous-auth: requests without credentials are system:anonymous (default true, as upstream). */
  anonymousAuth: boolean;
  /** --authorization-mode, in order. */
  authorizationModes: AuthorizationMode[];
  /** ServiceAccount tokens: --service-account-issuer, --api-audiences, the signing key and the verification keys. */
  serviceAccount?: { issuers: string[]; apiAudiences: string[]; signingKey?: string; verifyKeys: string[] };
  /** --kubelet-client-certificate/--kubelet-client-key (and --kubelet-certificate-authority): how to reach kubelets. */
  kubeletClient?: KubeletClientTls;
  /** --disable-admission-plugins (ServiceAccount is the one tskube has that can be turned off). */
  disabledAdmissionPlugins: string[];
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

/** REPAIR_INTERVAL_MS is how often the ClusterIP and NodePort repair loop runs (upstream: every 3 minutes). */
const REPAIR_INTERVAL_MS = 60_000;

/** startApiServer opens the store, rebuilds allocations, creates the bootstrap objects and starts listening. */
export async function startApiServer(config: ApiServerConfig): Promise<RunningApiServer> {
  const log = config.logger;
  const metrics = new ApiServerMetrics();
  const store = metrics.instrumentStore(
    await openStore({ etcdServers: config.etcdServers, dataDir: config.dataDir, history: config.storageHistory }),
  );
  const serviceIps = new ServiceIps(store, config.serviceClusterIpRange, config.serviceNodePortRange, log);
  const registry = new Registry(store, serviceIps);
  const services = resourceByName('', 'services')!;
  // Allocations live in the store (IPAddress objects, NodePort keys); a repair first brings back what a crash lost.
  await serviceIps.repair((await registry.list(services, {})).items);
  await bootstrap(registry, config);
  const repairTimer = setInterval(() => {
    registry
      .list(services, {})
      .then((list) => serviceIps.repair(list.items))
      .catch((error) => log.error('Service allocation repair failed', { error }));
  }, REPAIR_INTERVAL_MS);
  repairTimer.unref();
  const lookup: ObjectLookup = async <R extends keyof LookedUp>(
    resource: R,
    namespace: string | undefined,
    name: string,
  ) => {
    const info = resourceByName('', resource);
    if (!info) return undefined;
    try {
      // The registry stores only what the resource's validation let through: read as that resource's type.
      return (await registry.get(info, info.namespaced ? namespace : undefined, name)) as Stored<LookedUp[R]>;
    } catch (error) {
      if (isStatusError(error, 404)) return null;
      throw error;
    }
  };
  const pods = resourceByName('', 'pods')!;
  const node = new NodeAuthorizer({
    lookup,
    // A list of the pods resource: pods, as the registry stored them.
    podsOnNode: async (name) =>
      (await registry.list(pods, { fieldSelector: `spec.nodeName=${name}` })).items as Stored<Pod>[],
  });
  const authorizer = new Authorizer({ modes: config.authorizationModes, node, store, logger: log });
  if (config.authorizationModes.includes('RBAC')) await bootstrapPolicy(registry);
  await authorizer.start();
  const sa = config.serviceAccount;
  const tokens = sa
    ? new ServiceAccountTokens({
        issuers: sa.issuers,
        apiAudiences: sa.apiAudiences,
        signingKeyPem: sa.signingKey,
        verifyKeyPems: sa.verifyKeys,
      })
    : undefined;
  const authenticator = new Authenticator({ tokens, anonymous: config.anonymousAuth, lookup, logger: log });
  const handler = createApiHandler({
    registry,
    logger: log,
    versionMinor: config.versionMinor,
    serverAddress: `${config.advertiseAddress}:${config.securePort || config.insecurePort}`,
    metrics,
    reviews: { authenticator, authorizer, tokens, lookup },
    kubeletTls: config.kubeletClient,
    admit: admission({
      authorizer: config.authorizationModes.includes('RBAC') ? authorizer : undefined,
      lookup,
      disabled: new Set(config.disabledAdmissionPlugins),
    }),
    written: async (info, object) => {
      if (info.group === 'rbac.authorization.k8s.io')
        await authorizer.waitFor(Number(object?.metadata?.resourceVersion ?? 0));
    },
  });
  const kubeletTls = config.kubeletClient;
  /** guard authenticates and authorizes a request on the secure port: the user, or the 401/403 to answer. */
  const guard = async (req: http.IncomingMessage, upgrade: boolean): Promise<UserInfo | StatusError> => {
    const result = await authenticator.authenticate(req);
    if ('error' in result) {
      log.v(4).info('Unable to authenticate the request', { err: result.error });
      return unauthorized();
    }
    let user = result.user;
    const acting = impersonation(req, user);
    if (acting && 'error' in acting) return badRequest(acting.error);
    if (acting) {
      for (const check of acting.checks) {
        const allowed = await authorizer.authorize(check);
        if (allowed.decision === 'allow') continue;
        log.v(2).info('Forbidden impersonation', { user: user.username, resource: check.resource, name: check.name });
        return forbiddenError(
          { group: check.apiGroup, resource: check.resource },
          check.name,
          forbiddenMessage(check) + (allowed.reason ? `: ${allowed.reason}` : ''),
        );
      }
      for (const name of Object.keys(req.headers)) if (isImpersonateHeader(name)) delete req.headers[name];
      user = acting.user;
    }
    const url = new URL(req.url ?? '/', 'https://apiserver');
    const attrs = requestAttributes(user, req.method ?? 'GET', url, { upgrade });
    const decision = await authorizer.authorize(attrs);
    if (decision.decision === 'allow') return user;
    log
      .v(2)
      .info('Forbidden', { user: attrs.user.username, verb: attrs.verb, path: attrs.path, reason: decision.reason });
    const why = forbiddenMessage(attrs) + (decision.reason ? `: ${decision.reason}` : '');
    return attrs.resourceRequest
      ? forbiddenError({ group: attrs.apiGroup, resource: attrs.resource }, attrs.name, why)
      : forbiddenError(undefined, '', why);
  };
  const secureHandler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    guard(req, false).then(
      (outcome) => {
        if ('username' in outcome) return handler(req, res, outcome);
        res.writeHead(outcome.code, { 'Content-Type': 'application/json' }).end(JSON.stringify(outcome.status));
      },
      (error) => {
        log.error('Cannot authorize request', { error });
        res.writeHead(500).end();
      },
    );
  };
  const secureUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    guard(req, true).then(
      (outcome) => {
        if ('username' in outcome) return void proxyExecUpgrade(req, socket, head, registry, kubeletTls);
        const body = JSON.stringify(outcome.status);
        socket.end(
          `HTTP/1.1 ${outcome.code} ${http.STATUS_CODES[outcome.code]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
      },
      (error) => {
        log.error('Cannot authorize request', { error });
        socket.destroy();
      },
    );
  };
  const servers: http.Server[] = [];
  const running: RunningApiServer = {
    async close() {
      clearInterval(repairTimer);
      authorizer.stop();
      for (const s of servers) {
        s.closeAllConnections();
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
      await store.close();
    },
  };
  if (config.insecureBindAddress !== undefined) {
    const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => handler(req, res, UNSECURED));
    server.on('upgrade', (req, socket, head) => void proxyExecUpgrade(req, socket, head, registry, kubeletTls));
    answerClientErrors(server);
    running.insecurePort = await listen(server, config.insecureBindAddress, config.insecurePort);
    servers.push(server);
    log.info('Serving insecurely', { address: `${config.insecureBindAddress}:${running.insecurePort}` });
  }
  if (config.securePort > 0 && config.tls) {
    const clientAuth = config.clientCa ? { requestCert: true, rejectUnauthorized: false, ca: config.clientCa } : {};
    const server = https.createServer(
      { cert: config.tls.cert, key: config.tls.key, keepAliveTimeout: 60_000, ...clientAuth },
      secureHandler,
    );
    server.on('upgrade', secureUpgrade);
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
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      code,
      reason: code === 400 ? 'BadRequest' : 'RequestEntityTooLarge',
      message: tooLarge
        ? `Request Header Fields Too Large: limit is ${http.maxHeaderSize}`
        : code === 414
          ? 'URI Too Long'
          : `Bad Request: ${error.code ?? 'malformed request'}`,
    };
    const body = JSON.stringify(status);
    const text = code === 431 ? 'Request Header Fields Too Large' : code === 414 ? 'URI Too Long' : 'Bad Request';
    socket.end(
      `HTTP/1.1 ${code} ${text}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
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
  const ensure = async (resource: string, group: string, namespace: string | undefined, object: ApiObject) => {
    try {
      await registry.create(resourceByName(group, resource)!, namespace, object, { dryRun: false });
    } catch (error) {
      if (!isStatusError(error, 409)) throw error;
    }
  };
  for (const name of SYSTEM_NAMESPACES) await ensure('namespaces', '', undefined, { metadata: { name } });
  // The default ServiceCIDR, as upstream's API server creates it from --service-cluster-ip-range.
  await ensure('servicecidrs', 'networking.k8s.io', undefined, {
    metadata: { name: 'kubernetes' },
    spec: { cidrs: [registry.serviceIps.ranges.serviceCidrText] },
    status: {
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: '',
          message: 'Kubernetes Service CIDR is ready',
          lastTransitionTime: timestamp(),
        },
      ],
    },
  });
  const port = config.securePort || 6443;
  const kubernetesIp = nthAddress(serviceIpsCidr(registry), 1);
  await ensure('services', '', 'default', {
    metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      type: 'ClusterIP',
      clusterIP: kubernetesIp,
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }],
      sessionAffinity: 'None',
    },
  });
  const endpoints = {
    metadata: { name: 'kubernetes', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip: config.advertiseAddress }], ports: [{ name: 'https', port, protocol: 'TCP' }] }],
  };
  const slice = {
    metadata: { name: 'kubernetes', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [config.advertiseAddress], conditions: { ready: true } }],
    ports: [{ name: 'https', port, protocol: 'TCP' }],
  };
  await reconcile(registry, 'endpoints', '', endpoints);
  await reconcile(registry, 'endpointslices', 'discovery.k8s.io', slice);
}

/**
 * bootstrapPolicy creates upstream's default Roles, ClusterRoles and bindings that are missing, and brings those
 * still annotated `rbac.authorization.kubernetes.io/autoupdate: "true"` back to the defaults (added rules, subjects).
 */
async function bootstrapPolicy(registry: Registry): Promise<void> {
  const sets: [string, string | undefined, readonly (RoleObject | BindingObject)[]][] = [
    ['clusterroles', undefined, CLUSTER_ROLES],
    ['clusterrolebindings', undefined, CLUSTER_ROLE_BINDINGS],
    ['roles', 'kube-system', ROLES],
    ['rolebindings', 'kube-system', ROLE_BINDINGS],
  ];
  for (const [resource, namespace, objects] of sets) {
    const info = resourceByName('rbac.authorization.k8s.io', resource)!;
    const existing = new Map((await registry.list(info, { namespace })).items.map((o) => [o.metadata.name, o]));
    for (const policy of objects) {
      const wanted: ApiObject = { ...policy };
      const name = policy.metadata.name;
      const current = existing.get(name);
      if (!current) {
        await registry.create(info, namespace, structuredClone(wanted), { dryRun: false }).catch((error) => {
          if (!isStatusError(error, 409)) throw error;
        });
        continue;
      }
      if (current.metadata.annotations?.['rbac.authorization.kubernetes.io/autoupdate'] !== 'true') continue;
      const fields = ['rules', 'subjects', 'aggregationRule'];
      if (fields.every((f) => JSON.stringify(current[f] ?? null) === JSON.stringify(wanted[f] ?? null))) continue;
      const next = { ...current };
      for (const f of fields) if (wanted[f] !== undefined) next[f] = structuredClone(wanted[f]);
      await registry.update(info, namespace, name, next, { dryRun: false }).catch((error) => {
        if (!isStatusError(error, 409)) throw error;
      });
    }
  }
}

/** reconcile creates or updates an object the API server owns, so a changed advertise address is picked up. */
async function reconcile(
  registry: Registry,
  resource: string,
  group: string,
  object: ApiObject & { metadata: { name: string } },
): Promise<void> {
  const info = resourceByName(group, resource)!;
  try {
    const current = await registry.get(info, 'default', object.metadata.name);
    await registry.update(
      info,
      'default',
      object.metadata.name,
      { ...object, metadata: { ...object.metadata, resourceVersion: current.metadata.resourceVersion } },
      { dryRun: false },
    );
  } catch (error) {
    if (!isStatusError(error, 404)) throw error;
    await registry.create(info, 'default', object, { dryRun: false });
  }
}

function serviceIpsCidr(registry: Registry) {
  return registry.serviceIps.ranges.serviceCidr;
}
