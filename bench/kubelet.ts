/**
 * Kubelet figures on a one-node `tskube up` cluster ("tkn", LAN 192.168.232.0/24): pod create → Running with an IP,
 * one pod at a time over 100 pods, and the process runtime's memory per pod (what runs besides the workload).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RestClient } from '../src/client/rest-client.ts';
import { run as sh } from '../src/sys/run.ts';
import { TSKUBE } from '../test/support/processes.ts';
import { sleep } from '../src/util/wait.ts';
import { percentile } from './stats.ts';
import type { Resource } from '../src/client/client.ts';

export async function run(): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stdout.write('kubelet: skipped (needs root)\n');
    return;
  }
  const state = await mkdtemp(join(tmpdir(), 'tskube-bench-'));
  const flags = ['--name=tkn', `--state-dir=${state}`];
  await sh([TSKUBE, 'up', ...flags, '--nodes=1', '--lan-cidr=192.168.232.0/24'], { timeoutMs: 300_000 });
  const client = new RestClient({ server: 'http://192.168.232.1:8080', namespace: 'default' }, { userAgent: 'bench' });
  try {
    const pods = client.resource('pods') as Resource<any>;
    const latencies: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t = performance.now();
      await client.create(pods, 'default', {
        metadata: { name: `p${i}` },
        spec: {
          nodeName: 'nodea',
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }],
        },
      });
      for (;;) {
        const p = await client.get(pods, 'default', `p${i}`);
        if (p.status?.phase === 'Running' && p.status.podIP) break;
        await sleep(5);
      }
      latencies.push(performance.now() - t);
    }
    process.stdout.write(
      `pod create → Running with an IP, 100 pods one at a time on one node: p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms\n`,
    );
    // Per pod, the runtime adds `unshare` (outside the pod), bwrap's monitor and bwrap's init (PID 1 inside the
    // container): every process on the way down to the workload, `sleep`.
    const containers = join(state, 'nodes', 'nodea', 'kubelet', 'containers');
    let total = 0;
    let count = 0;
    for (const uid of readdirSync(containers)) {
      // The benchmark's pods (container "c"), not the cluster's own (DNS).
      if (!existsSync(join(containers, uid, 'c', 'state.json'))) continue;
      const { pid } = JSON.parse(readFileSync(join(containers, uid, 'c', 'state.json'), 'utf8'));
      for (
        let p = pid;
        p && !readFileSync(`/proc/${p}/comm`, 'utf8').startsWith('sleep');
        p = Number(readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(' ')[0])
      )
        total += rssKiB(p);
      count++;
    }
    process.stdout.write(
      `process runtime memory per pod (unshare + bwrap monitor + bwrap init RSS, workload excluded): ${(total / count / 1024).toFixed(2)} MiB over ${count} pods\n`,
    );
  } finally {
    client.close();
    await sh([TSKUBE, 'down', ...flags], { timeoutMs: 120_000 });
    await rm(state, { recursive: true, force: true });
  }
}

function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}
