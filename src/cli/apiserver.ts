import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { startApiServer } from '../apiserver/apiserver.ts';
import { firstIPv4 } from '../sys/process.ts';
import { createLogger } from '../log/klog.ts';
import { run } from '../sys/run.ts';
import { untilSignal } from './until-signal.ts';
import { parseFlags, usage, type FlagSpecs } from './flags.ts';

const FLAGS: FlagSpecs = {
  'etcd-servers': { type: 'strings', default: [], help: 'List of etcd servers to connect with (scheme://ip:port), comma separated. When empty, the embedded SQLite store in --data-dir is used.' },
  'data-dir': { type: 'string', help: 'Directory of the embedded store and generated certificates (default /var/lib/tskube/apiserver as root, else ~/.tskube/apiserver)' },
  'service-cluster-ip-range': { type: 'string', default: '10.0.0.0/24', help: 'A CIDR notation IP range from which to assign service cluster IPs.' },
  'service-node-port-range': { type: 'string', default: '30000-32767', help: 'A port range to reserve for services with NodePort visibility.' },
  'advertise-address': { type: 'string', help: 'The IP address on which to advertise the apiserver to members of the cluster (default: the first non-loopback IPv4 address)' },
  'bind-address': { type: 'string', default: '0.0.0.0', help: 'The IP address on which to listen for the --secure-port port.' },
  'secure-port': { type: 'int', default: 6443, help: 'The port on which to serve HTTPS with authentication and authorization. 0 disables HTTPS.' },
  'tls-cert-file': { type: 'string', help: 'File containing the default x509 Certificate for HTTPS (self-signed one generated in --data-dir when absent)' },
  'tls-private-key-file': { type: 'string', help: 'File containing the default x509 private key matching --tls-cert-file.' },
  'insecure-bind-address': { type: 'string', help: 'The IP address on which to serve plain HTTP (the lab uses 0.0.0.0). HTTP is served only when this or --insecure-port is given.' },
  'insecure-port': { type: 'int', default: 8080, help: 'The port on which to serve plain HTTP, when asked for.' },
  'disable-admission-plugins': { type: 'strings', default: [], help: 'Admission plugins that should be disabled (accepted and logged).' },
  'enable-admission-plugins': { type: 'strings', default: [], help: 'Admission plugins that should be enabled (accepted and logged).' },
  'allow-privileged': { type: 'bool', default: false, help: 'If true, allow privileged containers (accepted).' },
  'reported-minor-version': { type: 'string', default: '33', help: 'The Kubernetes minor version /version reports; the /usr/bin/kubectl dispatcher runs kubectl.1.<minor> (27 to 33).' },
  'storage-history': { type: 'int', default: 10000, help: 'Revisions of history the embedded store keeps for watch resumption; older resourceVersions get 410 Gone.' },
  v: { type: 'int', default: 0, short: 'v', help: 'number for the log level verbosity' },
  help: { type: 'bool', default: false, short: 'h', help: 'help for apiserver' },
};

/** main runs `tskube apiserver` until SIGTERM or SIGINT. */
export async function main(argv: string[]): Promise<number> {
  const { values, given } = parseFlags(argv, FLAGS);
  if (values.help) {
    process.stdout.write(usage('tskube apiserver', 'The Kubernetes API server: validates and stores API objects, serves list and watch.', FLAGS));
    return 0;
  }
  const logger = createLogger({ verbosity: values.v as number, source: 'server.go' });
  const dataDir = (values['data-dir'] as string | undefined) ?? (process.getuid?.() === 0 ? '/var/lib/tskube/apiserver' : join(homedir(), '.tskube', 'apiserver'));
  for (const plugin of values['disable-admission-plugins'] as string[]) logger.info('Admission plugin disabled (tskube runs no admission plugins)', { plugin });
  for (const plugin of values['enable-admission-plugins'] as string[]) logger.info('Admission plugin requested (tskube runs no admission plugins)', { plugin });
  const securePort = values['secure-port'] as number;
  const insecure = given.has('insecure-bind-address') || given.has('insecure-port');
  const tls = securePort > 0 ? await certificate(values, dataDir) : undefined;
  const server = await startApiServer({
    etcdServers: values['etcd-servers'] as string[],
    dataDir,
    serviceClusterIpRange: values['service-cluster-ip-range'] as string,
    serviceNodePortRange: values['service-node-port-range'] as string,
    advertiseAddress: (values['advertise-address'] as string | undefined) ?? firstIPv4(),
    bindAddress: values['bind-address'] as string,
    securePort,
    tls,
    insecureBindAddress: insecure ? ((values['insecure-bind-address'] as string | undefined) ?? '127.0.0.1') : undefined,
    insecurePort: values['insecure-port'] as number,
    versionMinor: values['reported-minor-version'] as string,
    storageHistory: values['storage-history'] as number,
    logger,
  });
  logger.info('tskube apiserver ready', { store: (values['etcd-servers'] as string[]).length ? `etcd ${(values['etcd-servers'] as string[]).join(',')}` : `sqlite ${dataDir}` });
  await untilSignal();
  logger.info('Shutting down');
  await server.close();
  return 0;
}


/** certificate loads the given key pair, or makes a self-signed one with openssl the first time. */
async function certificate(values: Record<string, unknown>, dataDir: string): Promise<{ cert: Buffer; key: Buffer }> {
  const certFile = (values['tls-cert-file'] as string | undefined) ?? join(dataDir, 'apiserver.crt');
  const keyFile = (values['tls-private-key-file'] as string | undefined) ?? join(dataDir, 'apiserver.key');
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    if (values['tls-cert-file']) throw new Error(`Cannot read --tls-cert-file "${certFile}": no such file`);
    mkdirSync(dataDir, { recursive: true });
    await run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '3650', '-subj', '/CN=kube-apiserver', '-addext', 'subjectAltName=DNS:kubernetes,DNS:localhost,IP:127.0.0.1', '-keyout', keyFile, '-out', certFile]);
  }
  return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
}
