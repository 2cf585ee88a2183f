import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { startApiServer } from '../apiserver/apiserver.ts';
import { AUTHORIZATION_MODES, type AuthorizationMode } from '../apiserver/auth/authorizer.ts';
import { createCa, createSigningKey, issueApiserverCertificate } from '../pki/pki.ts';
import { firstIPv4 } from '../sys/process.ts';
import type { TypedFlagValues } from './flags.ts';
import { componentFlags, runComponent, type ComponentFlags } from './run-component.ts';

const FLAGS = {
  'etcd-servers': {
    type: 'strings',
    default: [],
    help: 'List of etcd servers to connect with (scheme://ip:port), comma separated. When empty, the embedded SQLite store in --data-dir is used.',
  },
  'data-dir': {
    type: 'string',
    help: 'Directory of the embedded store and generated certificates (default /var/lib/tskube/apiserver as root, else ~/.tskube/apiserver)',
  },
  'service-cluster-ip-range': {
    type: 'string',
    default: '10.0.0.0/24',
    help: 'A CIDR notation IP range from which to assign service cluster IPs.',
  },
  'service-node-port-range': {
    type: 'string',
    default: '30000-32767',
    help: 'A port range to reserve for services with NodePort visibility.',
  },
  'advertise-address': {
    type: 'string',
    help: 'The IP address on which to advertise the apiserver to members of the cluster (default: the first non-loopback IPv4 address)',
  },
  'bind-address': {
    type: 'string',
    default: '0.0.0.0',
    help: 'The IP address on which to listen for the --secure-port port.',
  },
  'secure-port': {
    type: 'int',
    default: 6443,
    help: 'The port on which to serve HTTPS with authentication and authorization. 0 disables HTTPS.',
  },
  'tls-cert-file': {
    type: 'string',
    help: 'File containing the default x509 Certificate for HTTPS (one signed by a CA generated in --data-dir when absent)',
  },
  'tls-private-key-file': {
    type: 'string',
    help: 'File containing the default x509 private key matching --tls-cert-file.',
  },
  'client-ca-file': {
    type: 'string',
    help: 'If set, any request presenting a client certificate signed by one of the authorities in the client-ca-file is authenticated with an identity corresponding to the CommonName of the client certificate (and its Organizations as groups).',
  },
  'anonymous-auth': {
    type: 'bool',
    default: true,
    help: 'Enables anonymous requests to the secure port of the API server. Requests that are not rejected by another authentication method are treated as anonymous requests (user system:anonymous, group system:unauthenticated); RBAC lets them reach only health, version and discovery.',
  },
  'authorization-mode': {
    type: 'strings',
    default: ['Node', 'RBAC'],
    help: `Ordered list of plug-ins to do authorization on secure port. Comma-delimited list of: ${AUTHORIZATION_MODES.join(',')}.`,
  },
  'service-account-issuer': {
    type: 'strings',
    default: [],
    help: 'Identifier of the service account token issuer (the iss claim); the first is used to issue, all are accepted. (default https://kubernetes.default.svc.cluster.local)',
  },
  'service-account-key-file': {
    type: 'strings',
    default: [],
    help: 'File containing PEM-encoded x509 RSA or ECDSA private or public keys, used to verify ServiceAccount tokens. Defaults to --service-account-signing-key-file.',
  },
  'service-account-signing-key-file': {
    type: 'string',
    help: 'Path to the file that contains the current private key of the service account token issuer (generated in --data-dir when absent).',
  },
  'api-audiences': {
    type: 'strings',
    default: [],
    help: 'Identifiers of the API. The service account token authenticator validates that tokens used against the API are bound to at least one of these audiences (default: the first --service-account-issuer).',
  },
  'kubelet-client-certificate': {
    type: 'string',
    help: 'Path to a client cert file for TLS to kubelets (without it, the API server calls kubelets anonymously).',
  },
  'kubelet-client-key': { type: 'string', help: 'Path to a client key file for TLS to kubelets.' },
  'kubelet-certificate-authority': {
    type: 'string',
    help: "Path to a cert file for the certificate authority of kubelets' serving certificates.",
  },
  'insecure-bind-address': {
    type: 'string',
    help: 'The IP address on which to serve plain HTTP (the lab uses 0.0.0.0). HTTP is served only when this or --insecure-port is given. WARNING: the insecure port has no authentication and no authorization: whoever reaches it has full control of the cluster.',
  },
  'insecure-port': {
    type: 'int',
    default: 8080,
    help: 'The port on which to serve plain HTTP, when asked for (no authentication, no authorization: full access for whoever reaches it).',
  },
  'disable-admission-plugins': {
    type: 'strings',
    default: [],
    help: 'Admission plugins that should be disabled (ServiceAccount can be; others are accepted and logged).',
  },
  'enable-admission-plugins': {
    type: 'strings',
    default: [],
    help: 'Admission plugins that should be enabled (ServiceAccount and RBAC escalation checks always run; others are accepted and logged).',
  },
  'allow-privileged': { type: 'bool', default: false, help: 'If true, allow privileged containers (accepted).' },
  'reported-minor-version': {
    type: 'string',
    default: '33',
    help: 'The Kubernetes minor version /version reports; the /usr/bin/kubectl dispatcher runs kubectl.1.<minor> (27 to 33).',
  },
  'storage-history': {
    type: 'int',
    default: 10000,
    help: 'Revisions of history the embedded store keeps for watch resumption; older resourceVersions get 410 Gone.',
  },
  ...componentFlags('apiserver'),
} satisfies ComponentFlags;

/** main runs `tskube apiserver` until SIGTERM or SIGINT. */
export function main(argv: string[]): Promise<number> {
  return runComponent(argv, {
    command: 'tskube apiserver',
    flags: FLAGS,
    logSource: 'server.go',
    summary: 'The Kubernetes API server: validates and stores API objects, serves list and watch.',
    async start({ values, given, logger }) {
      const dataDir =
        values['data-dir'] ??
        (process.getuid?.() === 0 ? '/var/lib/tskube/apiserver' : join(homedir(), '.tskube', 'apiserver'));
      for (const plugin of values['disable-admission-plugins']) logger.info('Admission plugin disabled', { plugin });
      for (const plugin of values['enable-admission-plugins'])
        logger.info('Admission plugin requested (tskube runs ServiceAccount and RBAC escalation checks only)', {
          plugin,
        });
      const modes = values['authorization-mode'];
      for (const mode of modes)
        if (!(AUTHORIZATION_MODES as readonly string[]).includes(mode))
          throw new Error(`Cannot use --authorization-mode "${mode}": one of ${AUTHORIZATION_MODES.join(', ')}`);
      const securePort = values['secure-port'];
      const insecure = given.has('insecure-bind-address') || given.has('insecure-port');
      if (insecure)
        logger.warning(
          'Serving plain HTTP without authentication or authorization: whoever reaches the insecure port controls the cluster',
          { address: `${values['insecure-bind-address'] ?? '127.0.0.1'}:${values['insecure-port']}` },
        );
      const tls = securePort > 0 ? await certificate(values, dataDir) : undefined;
      const signingKeyFile = values['service-account-signing-key-file'] ?? (await generatedSigningKey(dataDir));
      const issuers = values['service-account-issuer'];
      const keyFiles = values['service-account-key-file'];
      const read = (
        flag: 'kubelet-client-certificate' | 'kubelet-client-key' | 'kubelet-certificate-authority' | 'client-ca-file',
      ) => (values[flag] ? readFileSync(values[flag]) : undefined);
      const kubeletCert = read('kubelet-client-certificate');
      const kubeletKey = read('kubelet-client-key');
      if ((kubeletCert === undefined) !== (kubeletKey === undefined))
        throw new Error(
          'Cannot authenticate to kubelets: give both --kubelet-client-certificate and --kubelet-client-key',
        );
      const server = await startApiServer({
        etcdServers: values['etcd-servers'],
        dataDir,
        serviceClusterIpRange: values['service-cluster-ip-range'],
        serviceNodePortRange: values['service-node-port-range'],
        advertiseAddress: values['advertise-address'] ?? firstIPv4(),
        bindAddress: values['bind-address'],
        securePort,
        tls,
        insecureBindAddress: insecure ? (values['insecure-bind-address'] ?? '127.0.0.1') : undefined,
        insecurePort: values['insecure-port'],
        clientCa: read('client-ca-file'),
        anonymousAuth: values['anonymous-auth'],
        authorizationModes: modes as AuthorizationMode[],
        serviceAccount: {
          issuers: issuers.length ? issuers : ['https://kubernetes.default.svc.cluster.local'],
          apiAudiences: values['api-audiences'],
          signingKey: readFileSync(signingKeyFile, 'utf8'),
          verifyKeys: (keyFiles.length ? keyFiles : [signingKeyFile]).map((f) => readFileSync(f, 'utf8')),
        },
        kubeletClient: { cert: kubeletCert, key: kubeletKey, ca: read('kubelet-certificate-authority') },
        disabledAdmissionPlugins: values['disable-admission-plugins'],
        versionMinor: values['reported-minor-version'],
        storageHistory: values['storage-history'],
        logger,
      });
      logger.info('tskube apiserver ready', {
        store: values['etcd-servers'].length ? `etcd ${(values['etcd-servers']).join(',')}` : `sqlite ${dataDir}`,
      });
      return {
        async stop() {
          logger.info('Shutting down');
          await server.close();
        },
      };
    },
  });
}

/**
 * certificate loads the given key pair, or the first time makes a CA (`apiserver-ca.crt`) and a serving certificate
 * it signs, in --data-dir, as upstream's self-signed fallback does.
 */
async function certificate(
  values: TypedFlagValues<typeof FLAGS>,
  dataDir: string,
): Promise<{ cert: Buffer; key: Buffer }> {
  const certFile = values['tls-cert-file'] ?? join(dataDir, 'apiserver.crt');
  const keyFile = values['tls-private-key-file'] ?? join(dataDir, 'apiserver.key');
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    if (values['tls-cert-file']) throw new Error(`Cannot read --tls-cert-file "${certFile}": no such file`);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const ca = await createCa(`kube-apiserver-ca@${Math.floor(Date.now() / 1000)}`);
    const address = values['advertise-address'] ?? firstIPv4();
    const pair = await issueApiserverCertificate(ca, { clusterDomain: 'cluster.local', ips: ['127.0.0.1', address] });
    writeFileSync(join(dataDir, 'apiserver-ca.crt'), ca.cert, { mode: 0o644 });
    writeFileSync(keyFile, pair.key, { mode: 0o600 });
    writeFileSync(certFile, pair.cert + ca.cert, { mode: 0o644 });
  }
  return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

/** generatedSigningKey returns the ServiceAccount signing key kept in --data-dir, made the first time. */
async function generatedSigningKey(dataDir: string): Promise<string> {
  const file = join(dataDir, 'sa.key');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, (await createSigningKey()).privateKey, { mode: 0o600 });
  }
  return file;
}
