/**
 * kube-proxy on the real kernel, at 1,000 and 10,000 Services × 10 endpoints (BENCH_PROXY_SIZES to change): the
 * daemon's first full sync next to a bare iptables-restore of the same text in a fresh namespace, the time from
 * one Service change to its rule in the kernel, rule count, and the proxy's RSS.
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { kubeconfigText } from '../src/client/kubeconfig.ts';
import { servicePortChainName } from '../src/proxy/chain-names.ts';
import { run as sh } from '../src/sys/run.ts';
import { startApiServer } from '../test/support/apiserver.ts';
import { Lab } from '../test/support/netns.ts';
import { TSKUBE, waitFor } from '../test/support/processes.ts';
import { syntheticCluster } from './synthetic-cluster.ts';

export async function run(): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stdout.write('proxy: skipped (needs root for network namespaces)\n');
    return;
  }
  const sizes = (process.env.BENCH_PROXY_SIZES ?? '1000,10000').split(',').map(Number);
  for (const n of sizes) await one(n);
}

async function one(n: number): Promise<void> {
  const lab = new Lab('tkb');
  const node = await lab.ns('node');
  const bare = await lab.ns('bare');
  await lab.veth({ ns: '', dev: 'tkb-r0', cidr: '192.168.233.1/30' }, { ns: node, dev: 'eth1', cidr: '192.168.233.2/30' });
  const server = await startApiServer({ bindAddress: '192.168.233.1', serviceClusterIpRange: '10.96.0.0/12' });
  try {
    const { services, endpointSlices } = syntheticCluster(n, 10);
    const svcInfo = server.client.resource('services');
    const sliceInfo = server.client.resource('endpointslices');
    await server.client.create(server.client.resource('namespaces'), undefined, { metadata: { name: 'bench' } });
    let next = 0;
    await Promise.all(Array.from({ length: 50 }, async () => {
      while (next < n) {
        const i = next++;
        await server.client.create(svcInfo, 'bench', { ...services[i], spec: { ...services[i].spec, clusterIP: undefined } });
        await server.client.create(sliceInfo, 'bench', endpointSlices[i]);
      }
    }));
    const kubeconfig = join(server.dir, 'node.kubeconfig');
    await writeFile(kubeconfig, kubeconfigText(server.url));
    const started = performance.now();
    const proxy = lab.start(node, [TSKUBE, 'proxy', `--kubeconfig=${kubeconfig}`, '--hostname-override=node1', '--cluster-cidr=10.244.0.0/16', '--healthz-bind-address=127.0.0.1:10256', '--metrics-bind-address=127.0.0.1:10249', '--iptables-min-sync-period=0s']);
    const metric = async (name: string) => {
      const text = (await lab.tryExec(node, ['curl', '-s', 'http://127.0.0.1:10249/metrics'])).stdout;
      return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 'NaN');
    };
    await waitFor('the first sync', async () => (await metric('kubeproxy_sync_full_proxy_rules_duration_seconds_count')) >= 1, 600_000, 200);
    const startToSynced = performance.now() - started;
    const fullSync = await metric('kubeproxy_sync_full_proxy_rules_duration_seconds_sum');
    const rules = await lab.exec(node, ['curl', '-s', 'http://127.0.0.1:10249/debug/rules']);
    const t = performance.now();
    await lab.exec(bare, ['iptables-restore', '-w', '5', '--noflush'], { input: rules, timeoutMs: 600_000 });
    const bareRestore = (performance.now() - t) / 1000;
    const ruleCount = (rules.match(/^-A /gm) ?? []).length;
    // One change: a new Service with one endpoint, timed until its KUBE-SERVICES rule is in the kernel.
    const changeStart = performance.now();
    const created = await server.client.create(svcInfo, 'bench', { metadata: { name: 'changed' }, spec: { ports: [{ port: 80 }] } });
    await server.client.create(sliceInfo, 'bench', { metadata: { name: 'changed-x', labels: { 'kubernetes.io/service-name': 'changed' } }, addressType: 'IPv4', ports: [{ port: 80, protocol: 'TCP' }], endpoints: [{ addresses: ['10.244.9.9'], conditions: { ready: true } }] });
    const check = ['iptables', '-w', '-t', 'nat', '-C', 'KUBE-SERVICES', '-m', 'comment', '--comment', 'bench/changed cluster IP', '-m', 'tcp', '-p', 'tcp', '-d', `${created.spec.clusterIP}/32`, '--dport', '80', '-j', servicePortChainName('bench/changed', 'TCP')];
    await waitFor('the changed service in the kernel', async () => (await lab.tryExec(node, check)).ok, 600_000, 10);
    const change = performance.now() - changeStart;
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${await nodePid(proxy.pid)}/status`, 'utf8'))?.[1] ?? 0) / 1024;
    process.stdout.write(`${n} services × 10 endpoints: ${ruleCount} rules; proxy start → synced ${(startToSynced / 1000).toFixed(1)} s; full sync ${fullSync.toFixed(2)} s vs bare iptables-restore ${bareRestore.toFixed(2)} s (ratio ${(fullSync / bareRestore).toFixed(2)}); one Service change → kernel ${change.toFixed(0)} ms; proxy RSS ${rss.toFixed(0)} MiB\n`);
  } finally {
    await server.stop();
    await lab.destroy();
  }
}

/** nodePid finds the node process under nsenter (bin/tskube execs node, nsenter forks it). */
async function nodePid(nsenterPid: number): Promise<number> {
  const { stdout } = await sh(['pgrep', '-P', String(nsenterPid)]).catch(() => ({ stdout: String(nsenterPid) }));
  return Number(stdout.trim().split('\n')[0] || nsenterPid);
}
