import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeconfigText } from '../../src/client/kubeconfig.ts';
import { RestClient } from '../../src/client/rest-client.ts';
import { TSKUBE, freePort, startProcess, waitFor, type StartedProcess } from './processes.ts';

/** TestApiServer is a real `tskube apiserver` process on a loopback port, with a kubeconfig and a client for it. */
export interface TestApiServer {
  url: string;
  port: number;
  dir: string;
  kubeconfig: string;
  client: RestClient;
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
  /** Address to serve plain HTTP on (default 127.0.0.1), e.g. a veth address a node namespace can reach. */
  bindAddress?: string;
}

/** startApiServer starts `tskube apiserver` with plain HTTP on 127.0.0.1 and waits for /readyz. */
export async function startApiServer(options: TestApiServerOptions = {}): Promise<TestApiServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tskube-apiserver-'));
  const port = await freePort();
  const address = options.bindAddress ?? '127.0.0.1';
  const url = `http://${address}:${port}`;
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, kubeconfigText(url));
  const argv = [
    TSKUBE, 'apiserver',
    `--insecure-bind-address=${address}`, `--insecure-port=${port}`, '--secure-port=0',
    `--service-cluster-ip-range=${options.serviceClusterIpRange ?? '10.0.0.0/16'}`,
    `--advertise-address=${address}`,
    ...(options.etcdServers ? [`--etcd-servers=${options.etcdServers.join(',')}`] : [`--data-dir=${join(dir, 'data')}`]),
    ...(options.extraFlags ?? []),
  ];
  const client = new RestClient({ server: url, namespace: 'default' }, { userAgent: 'tskube-test' });
  const server: TestApiServer = {
    url, port, dir, kubeconfig, client,
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
    await waitFor('the API server to be ready', async () => {
      if (proc.child.exitCode !== null) throw new Error(`apiserver exited: ${proc.output().slice(-2000)}`);
      const res = await fetch(`${client.connection.server}/readyz`).catch(() => undefined);
      return res?.ok;
    }, 20_000);
  } catch (error) {
    await proc.stop('SIGKILL');
    throw new Error(`${(error as Error).message}\n--- apiserver output ---\n${proc.output().slice(-3000)}`);
  }
  return proc;
}
