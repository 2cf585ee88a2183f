/**
 * Cluster DNS figures on `tskube up` (cluster "tkdb", LAN 192.168.235.0/24) with 1,000 Services: dnsperf (Debian's
 * package) against one DNS pod, from its node, over a query file of existing and missing names (half each, as a
 * pod's search path makes them): maximum queries per second over UDP and TCP, and p50/p99 latency at fixed rates;
 * then Service create → resolvable latency.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadKubeconfig } from '../src/client/kubeconfig.ts';
import { RestClient } from '../src/client/rest-client.ts';
import { commandExists, run as sh } from '../src/sys/run.ts';
import { NODE, TSKUBE } from '../test/support/processes.ts';
import { sleep } from '../src/util/wait.ts';
import { percentile as pct } from './stats.ts';

const SERVICES = 1000;

export async function run(): Promise<void> {
  if (process.getuid?.() !== 0) return void process.stdout.write('dns: skipped (needs root)\n');
  if (!(await commandExists('dnsperf')))
    return void process.stdout.write('dns: skipped (dnsperf is not installed: scripts/setup.sh installs it)\n');
  const state = await mkdtemp(join(tmpdir(), 'tskube-bench-dns-'));
  const flags = ['--name=tkdb', `--state-dir=${state}`];
  await sh([TSKUBE, 'up', ...flags, '--lan-cidr=192.168.235.0/24'], { timeoutMs: 300_000 });
  const kubeconfig = join(state, 'admin.conf');
  const client = new RestClient(await loadKubeconfig(kubeconfig), { userAgent: 'bench' });
  try {
    const services = client.resource('services');
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next < SERVICES) {
          const i = next++;
          await client.create(services, 'default', {
            metadata: { name: `svc-${i}` },
            spec: { ports: [{ name: 'http', port: 80 }] },
          });
        }
      }),
    );
    process.stdout.write(`${SERVICES} Services created in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    const pods = (
      await client.list(client.resource('pods'), { namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' })
    ).items as any[];
    const pod = pods.find((p) => p.status?.podIP)!;
    const netns = `tkdb-${pod.spec.nodeName}`;
    const dnsperf = (args: string[]) =>
      sh(['nsenter', `--net=/run/netns/${netns}`, '--', 'dnsperf', '-s', pod.status.podIP, ...args], {
        timeoutMs: 120_000,
      });
    const names = [];
    for (let i = 0; i < SERVICES; i++)
      names.push(`svc-${i}.default.svc.cluster.local A`, `missing-${i}.default.svc.cluster.local A`);
    const file = join(state, 'queries.txt');
    await writeFile(file, `${names.join('\n')}\n`);
    // Every Service in the zone before measuring, then a warm-up run.
    for (;;) {
      const out = await dnsperf(['-d', file, '-n', '1']).catch(() => ({ stdout: '' }));
      if (/NOERROR 1000 /.test(out.stdout)) break;
      await sleep(500);
    }
    await dnsperf(['-d', file, '-l', '3']);
    for (const mode of ['udp', 'tcp']) {
      const out = (await dnsperf(['-m', mode, '-d', file, '-l', '10'])).stdout;
      const qps = Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
      const lost = /Queries lost:\s+(\d+)/.exec(out)?.[1] ?? '?';
      process.stdout.write(
        `dnsperf ${mode.toUpperCase()}, ${SERVICES} Services, existing/missing names 50/50, 100 outstanding: ${qps.toFixed(0)} queries/s (lost ${lost})\n`,
      );
    }
    for (const rate of [5000, 10000, 20000]) {
      const out = (await dnsperf(['-d', file, '-l', '5', '-Q', String(rate), '-v'])).stdout;
      const latencies = out
        .split('\n')
        .filter((l) => l.startsWith('> '))
        .map((l) => Number(l.split(' ').pop()) * 1000);
      process.stdout.write(
        `dnsperf UDP at ${rate} queries/s: p50 ${pct(latencies, 50).toFixed(2)} ms, p99 ${pct(latencies, 99).toFixed(2)} ms (${latencies.length} answers)\n`,
      );
    }
    const probe = fileURLToPath(new URL('./dns-create-probe.ts', import.meta.url));
    const out = await sh(
      ['nsenter', `--net=/run/netns/${netns}`, '--', NODE, probe, kubeconfig, pod.status.podIP, '50'],
      { timeoutMs: 120_000 },
    );
    const created = JSON.parse(out.stdout) as number[];
    process.stdout.write(
      `Service create → resolvable at the DNS pod, 50 Services one at a time: p50 ${pct(created, 50).toFixed(0)} ms, p99 ${pct(created, 99).toFixed(0)} ms\n`,
    );
    const restarts = pods.map((p) => p.status?.containerStatuses?.[0]?.restartCount ?? 0);
    const now = (
      await client.list(client.resource('pods'), { namespace: 'kube-system', labelSelector: 'k8s-app=kube-dns' })
    ).items as any[];
    process.stdout.write(
      `DNS pods' restarts during the run: ${now.map((p) => p.status?.containerStatuses?.[0]?.restartCount ?? 0).join(', ')} (before: ${restarts.join(', ')})\n`,
    );
  } finally {
    client.close();
    await sh([TSKUBE, 'down', ...flags], { timeoutMs: 120_000 });
    await rm(state, { recursive: true, force: true });
  }
}
