import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../src/util/wait.ts';
import { freePort, startProcess } from './processes.ts';

/** ETCD is Debian's etcd-server binary. */
export const ETCD = '/usr/bin/etcd';

export function etcdAvailable(): boolean {
  return existsSync(ETCD);
}

/** startEtcd runs a real single-member etcd on free loopback ports with a throwaway data dir. */
export async function startEtcd(): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'tskube-etcd-'));
  const client = await freePort();
  const peer = await freePort();
  const endpoint = `http://127.0.0.1:${client}`;
  const proc = startProcess(
    [
      ETCD,
      '--name=test',
      `--data-dir=${join(dir, 'data')}`,
      `--listen-client-urls=${endpoint}`,
      `--advertise-client-urls=${endpoint}`,
      `--listen-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-cluster=test=http://127.0.0.1:${peer}`,
      '--log-level=error',
    ],
    { env: { ETCD_UNSUPPORTED_ARCH: process.arch === 'x64' ? '' : process.arch } },
  );
  await waitFor(
    'etcd to serve',
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`etcd exited: ${proc.output()}`);
      const res = await fetch(`${endpoint}/health`).catch(() => undefined);
      return res?.ok;
    },
    { timeoutMs: 20_000 },
  );
  return {
    endpoint,
    async stop() {
      await proc.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
