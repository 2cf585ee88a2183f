import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';

/**
 * ClusterConnection is what a component needs to reach the API server, read from a kubeconfig file the way client-go
 * does (current-context → cluster + user), with files resolved relative to the kubeconfig.
 */
export interface ClusterConnection {
  server: string;
  ca?: Buffer;
  insecureSkipTlsVerify?: boolean;
  clientCert?: Buffer;
  clientKey?: Buffer;
  token?: string;
  /** A file holding the token, re-read every minute (a pod's ServiceAccount token is rotated by the kubelet). */
  tokenFile?: string;
  namespace: string;
}

/** KubeconfigFile is the part of a kubeconfig this reads; every value is checked where it is used. */
interface KubeconfigFile {
  'current-context'?: string;
  contexts?: { name?: string; context?: { cluster?: string; user?: string; namespace?: string } }[];
  clusters?: { name?: string; cluster?: Record<string, unknown> }[];
  users?: { name?: string; user?: Record<string, unknown> }[];
}

/** loadKubeconfig reads a kubeconfig file; it throws with the file name and the missing entry when it is unusable. */
export async function loadKubeconfig(path: string, options: { context?: string } = {}): Promise<ClusterConnection> {
  const text = await readFile(path, 'utf8');
  // parse() gives any: read as KubeconfigFile, whose values are compared, checked or converted below.
  const config: KubeconfigFile = parse(text) ?? {};
  const contextName = options.context ?? config['current-context'];
  const contexts = config.contexts ?? [];
  const clusters = config.clusters ?? [];
  const users = config.users ?? [];
  const context =
    contexts.find((c) => c.name === contextName)?.context ?? (contexts.length === 1 ? contexts[0]!.context : undefined);
  const clusterName = context?.cluster ?? (clusters.length === 1 ? clusters[0]!.name : undefined);
  const cluster = clusters.find((c) => c.name === clusterName)?.cluster;
  if (cluster?.server === undefined)
    throw new Error(`Cannot use kubeconfig "${path}": no cluster with a server for context "${contextName ?? ''}"`);
  const user = users.find((u) => u.name === context?.user)?.user ?? {};
  const base = dirname(resolve(path));
  const fileOrData = async (file: unknown, data: unknown): Promise<Buffer | undefined> => {
    if (typeof data === 'string') return Buffer.from(data, 'base64');
    if (typeof file === 'string') return readFile(resolve(base, file));
    return undefined;
  };
  const connection: ClusterConnection = {
    server: String(cluster.server).replace(/\/+$/, ''),
    namespace: context?.namespace ?? 'default',
  };
  const ca = await fileOrData(cluster['certificate-authority'], cluster['certificate-authority-data']);
  if (ca) connection.ca = ca;
  if (cluster['insecure-skip-tls-verify'] === true) connection.insecureSkipTlsVerify = true;
  const cert = await fileOrData(user['client-certificate'], user['client-certificate-data']);
  if (cert) connection.clientCert = cert;
  const key = await fileOrData(user['client-key'], user['client-key-data']);
  if (key) connection.clientKey = key;
  if (typeof user.token === 'string') connection.token = user.token;
  else if (typeof user.tokenFile === 'string') {
    connection.tokenFile = resolve(base, user.tokenFile);
    connection.token = (await readFile(connection.tokenFile, 'utf8')).trim();
  }
  return connection;
}

/** KubeconfigCredentials are what a kubeconfig carries for TLS and identity, embedded as data (PEM text). */
export interface KubeconfigCredentials {
  /** PEM of the CA that signed the API server's certificate. */
  ca?: string;
  /** PEM client certificate and key (x509 authentication). */
  clientCert?: string;
  clientKey?: string;
  /** A bearer token (ServiceAccount token). */
  token?: string;
}

/**
 * kubeconfigText renders a kubeconfig for a server URL (what `tskube up` and tests hand to components and users),
 * with the CA, client certificate and token embedded when given.
 */
export function kubeconfigText(
  server: string,
  options: { name?: string; namespace?: string; user?: string } & KubeconfigCredentials = {},
): string {
  const name = options.name ?? 'tskube';
  const user = options.user ?? name;
  const ns = options.namespace ? `\n    namespace: ${options.namespace}` : '';
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  const cluster = [`    server: ${server}`];
  if (options.ca) cluster.push(`    certificate-authority-data: ${b64(options.ca)}`);
  const userLines: string[] = [];
  if (options.clientCert) userLines.push(`    client-certificate-data: ${b64(options.clientCert)}`);
  if (options.clientKey) userLines.push(`    client-key-data: ${b64(options.clientKey)}`);
  if (options.token) userLines.push(`    token: ${options.token}`);
  return `apiVersion: v1
kind: Config
clusters:
- name: ${name}
  cluster:
${cluster.join('\n')}
contexts:
- name: ${user}@${name}
  context:
    cluster: ${name}
    user: ${user}${ns}
current-context: ${user}@${name}
users:
- name: ${user}
  user:${userLines.length ? `\n${userLines.join('\n')}` : ' {}'}
`;
}
