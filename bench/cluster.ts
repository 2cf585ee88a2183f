/**
 * Whole-cluster figures on `tskube up` (cluster "tkb", LAN 192.168.229.0/24): up to Ready and down; pod create →
 * Running with an IP over 100 pods; one Service change → its rule in both nodes' kernels over 100 changes.
 */
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
    process.stdout.write('cluster: skipped (needs root)\n');
    return;
  }
  const state = await mkdtemp(join(tmpdir(), 'tskube-bench-'));
  const flags = ['--name=tkb', `--state-dir=${state}`];
  const t0 = performance.now();
  await sh([TSKUBE, 'up', ...flags, '--lan-cidr=192.168.229.0/24'], { timeoutMs: 300_000 });
  const upSeconds = (performance.now() - t0) / 1000;
  const client = new RestClient({ server: 'http://192.168.229.1:8080', namespace: 'default' }, { userAgent: 'bench' });
  try {
    const pods = client.resource('pods') as Resource<any>;
    const latencies: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next < 100) {
          const i = next++;
          const t = performance.now();
          await client.create(pods, 'default', {
            metadata: { name: `bench-${i}` },
            spec: {
              terminationGracePeriodSeconds: 1,
              containers: [{ name: 'c', image: 'busybox', command: ['sleep', '3600'] }],
            },
          });
          for (;;) {
            const p = await client.get(pods, 'default', `bench-${i}`);
            if (p.status?.phase === 'Running' && p.status.podIP) break;
            await sleep(10);
          }
          latencies.push(performance.now() - t);
        }
      }),
    );
    process.stdout.write(`tskube up (2 nodes) to Ready and proxies synced: ${upSeconds.toFixed(1)} s\n`);
    process.stdout.write(
      `pod create → Running with an IP, 100 pods (10 at a time): p50 ${pct(latencies, 50)} ms, p99 ${pct(latencies, 99)} ms\n`,
    );
    await client.request('DELETE', '/api/v1/namespaces/default/pods', { body: { gracePeriodSeconds: 1 } });
    const services = client.resource('services') as Resource<any>;
    const changes: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t = performance.now();
      const svc = await client.create(services, 'default', {
        metadata: { name: `change-${i}` },
        spec: { ports: [{ port: 80 }] },
      });
      const rule = [
        'iptables',
        '-w',
        '-t',
        'filter',
        '-C',
        'KUBE-SERVICES',
        '-m',
        'comment',
        '--comment',
        `default/change-${i} has no endpoints`,
        '-m',
        'tcp',
        '-p',
        'tcp',
        '-d',
        `${svc.spec.clusterIP}/32`,
        '--dport',
        '80',
        '-j',
        'REJECT',
      ];
      for (const node of ['nodea', 'nodeb']) {
        for (;;) {
          const ok = await sh(['nsenter', `--net=/run/netns/tkb-${node}`, '--', ...rule]).then(
            () => true,
            () => false,
          );
          if (ok) break;
          await sleep(5);
        }
      }
      changes.push(performance.now() - t);
    }
    process.stdout.write(
      `Service change → rules in both nodes' kernels, 100 changes (minSyncPeriod 1s, upstream's default): p50 ${pct(changes, 50)} ms, p99 ${pct(changes, 99)} ms\n`,
    );
  } finally {
    client.close();
    const t1 = performance.now();
    await sh([TSKUBE, 'down', ...flags], { timeoutMs: 120_000 });
    process.stdout.write(`tskube down: ${((performance.now() - t1) / 1000).toFixed(1)} s\n`);
    await rm(state, { recursive: true, force: true });
  }
}

/** pct is percentile p of values in whole milliseconds. */
function pct(values: number[], p: number): string {
  return percentile(values, p).toFixed(0);
}
