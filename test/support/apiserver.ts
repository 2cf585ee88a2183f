import https from 'node:https';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeconfigText, loadKubeconfig } from '../../src/client/kubeconfig.ts';
import { RestClient } from '../../src/client/rest-client.ts';
import { createCa, createSigningKey, issueCertificate, type KeyPair } from '../../src/pki/pki.ts';
import { waitFor } from '../../src/util/wait.ts';
import { TSKUBE, freePort, startProcess, type StartedProcess } from './processes.ts';

/** TestApiServer is a real `tskube apiserver` process on a loopback port, with a kubeconfig and a client for it. */
export interface TestApiServer {
  /** The URL clients use: https://127.0.0.1:<port> when secure, else http://<address>:<port>. */
  url: string;
  port: number;
  /** With `secure` and `insecure` both: the plain HTTP URL next to the secure one. */
  insecureUrl?: string;
  dir: string;
  /** A kubeconfig with full rights: the admin's client certificate (system:masters) when secure. */
  kubeconfig: string;
  client: RestClient;
  /** The cluster CA (secure servers only). */
  ca?: KeyPair;
  /**
   * kubeconfigFor writes a kubeconfig for another identity: a client certificate for user (and groups) signed by
   * the cluster CA, or a bearer token. Secure servers only.
   */
  kubeconfigFor(identity: { user: string; groups?: string[] } | { token: string }, file?: string): Promise<string>;
  process: StartedProcess;
  /** restart stops the server (SIGTERM, or SIGKILL with hard) and starts it again on the same port and data. */
  restart(options?: { hard?: boolean; extraFlags?: string[] }): Promise<void>;
  stop(): Promise<void>;
}

export interface TestApiServerOptions {
  /** etcd endpoints; the embedded SQLite store is used when absent. */
  etcdServers?: string[];
  serviceClusterIpRange?: string;
  extraFlags?: string[];
  /** Address to serve on (default 127.0.0.1), e.g. a veth address a node namespace can reach. */
  bindAddress?: string;
  /**
   * secure: serve TLS only, with a fresh CA, client certificate and ServiceAccount token authentication, and
   * Node,RBAC authorization; `kubeconfig` and `client` then use an admin certificate (system:masters).
   * Default: plain HTTP on the insecure port (no authentication, no authorization) and no ServiceAccount admission,
   * as before.
   */
  secure?: boolean;
  /** With secure: also serve plain HTTP on another port (`insecureUrl`), e.g. to compare the two in a benchmark. */
  insecure?: boolean;
}

/**
 * startApiServer starts `tskube apiserver` on 127.0.0.1 and waits for /readyz: plain HTTP on the insecure port by
 * default, or TLS with authentication and authorization with `secure`.
 */
export async function startApiServer(options: TestApiServerOptions = {}): Promise<TestApiServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tskube-apiserver-'));
  const port = await freePort();
  const address = options.bindAddress ?? '127.0.0.1';
  const kubeconfig = join(dir, 'kubeconfig');
  let url: string;
  let insecureUrl: string | undefined;
  let ca: KeyPair | undefined;
  const listen: string[] = [];
  if (options.secure) {
    url = `https://${address}:${port}`;
    ca = await createCa('tskube-test-ca');
    const serving = await issueCertificate(ca, {
      commonName: 'kube-apiserver',
      usage: 'server',
      dnsNames: ['kubernetes', 'localhost'],
      ips: [address, '127.0.0.1'],
    });
    const admin = await issueCertificate(ca, {
      commonName: 'kubernetes-admin',
      organizations: ['system:masters'],
      usage: 'client',
    });
    const saKey = await createSigningKey();
    const file = (name: string, text: string) => writeFile(join(dir, name), text, { mode: 0o600 });
    await Promise.all([
      file('ca.crt', ca.cert),
      file('apiserver.crt', serving.cert),
      file('apiserver.key', serving.key),
      file('sa.key', saKey.privateKey),
      file('sa.pub', saKey.publicKey),
    ]);
    await writeFile(
      kubeconfig,
      kubeconfigText(url, { ca: ca.cert, clientCert: admin.cert, clientKey: admin.key, user: 'kubernetes-admin' }),
    );
    listen.push(
      `--bind-address=${address}`,
      `--secure-port=${port}`,
      `--tls-cert-file=${join(dir, 'apiserver.crt')}`,
      `--tls-private-key-file=${join(dir, 'apiserver.key')}`,
      `--client-ca-file=${join(dir, 'ca.crt')}`,
      `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
      `--service-account-key-file=${join(dir, 'sa.pub')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    );
    if (options.insecure) {
      const plain = await freePort();
      insecureUrl = `http://${address}:${plain}`;
      listen.push(`--insecure-bind-address=${address}`, `--insecure-port=${plain}`);
    }
  } else {
    url = `http://${address}:${port}`;
    await writeFile(kubeconfig, kubeconfigText(url));
    // No controller manager makes the default ServiceAccount here: pods are admitted without one, as the lab does.
    listen.push(
      `--insecure-bind-address=${address}`,
      `--insecure-port=${port}`,
      '--secure-port=0',
      '--disable-admission-plugins=ServiceAccount',
    );
  }
  const argv = [
    TSKUBE,
    'apiserver',
    ...listen,
    `--service-cluster-ip-range=${options.serviceClusterIpRange ?? '10.0.0.0/16'}`,
    `--advertise-address=${address}`,
    ...(options.etcdServers
      ? [`--etcd-servers=${options.etcdServers.join(',')}`]
      : [`--data-dir=${join(dir, 'data')}`]),
    ...(options.extraFlags ?? []),
  ];
  const client = new RestClient(await loadKubeconfig(kubeconfig), { userAgent: 'tskube-test' });
  const server: TestApiServer = {
    url,
    port,
    insecureUrl,
    dir,
    kubeconfig,
    client,
    ca,
    async kubeconfigFor(identity, file) {
      if (!ca) throw new Error('Cannot make a kubeconfig for another identity: the test API server is not secure');
      const path = file ?? join(dir, `kubeconfig-${Math.random().toString(36).slice(2, 10)}`);
      if ('token' in identity)
        await writeFile(path, kubeconfigText(url, { ca: ca.cert, token: identity.token, user: 'token' }), {
          mode: 0o600,
        });
      else {
        const pair = await issueCertificate(ca, {
          commonName: identity.user,
          organizations: identity.groups,
          usage: 'client',
        });
        await writeFile(
          path,
          kubeconfigText(url, { ca: ca.cert, clientCert: pair.cert, clientKey: pair.key, user: identity.user }),
          { mode: 0o600 },
        );
      }
      return path;
    },
    process: await launch(argv, join(dir, 'apiserver.log'), client),
    async restart({ hard = false, extraFlags = [] }: { hard?: boolean; extraFlags?: string[] } = {}) {
      await server.process.stop(hard ? 'SIGKILL' : 'SIGTERM');
      server.process = await launch([...argv, ...extraFlags], join(dir, 'apiserver.log'), client);
    },
    async stop() {
      await server.process.stop();
      client.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return server;
}

async function launch(argv: string[], logFile: string, client: RestClient): Promise<StartedProcess> {
  const proc = startProcess(argv, { logFile });
  try {
    await waitFor(
      'the API server to be ready',
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`apiserver exited: ${proc.output().slice(-2000)}`);
        return (await readyz(client)) || undefined;
      },
      { timeoutMs: 20_000 },
    );
  } catch (error) {
    await proc.stop('SIGKILL');
    throw new Error(`${(error as Error).message}\n--- apiserver output ---\n${proc.output().slice(-3000)}`);
  }
  return proc;
}

/** readyz asks /readyz (anonymously, as health checks do), trusting the server's CA when it has one. */
function readyz(client: RestClient): Promise<boolean> {
  const url = new URL('/readyz', client.connection.server);
  if (url.protocol === 'http:')
    return fetch(url).then(
      (r) => r.ok,
      () => false,
    );
  return new Promise((resolve) => {
    const req = https.get(url, { ca: client.connection.ca, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
  });
}
