/**
 * kube-proxy on the real kernel, per mode and size (Services × 10 endpoints): the daemon's first (full) sync next to
 * a bare `iptables-restore` / `nft -f` of the same text in a fresh namespace, one Service change and one endpoint
 * change until they carry traffic, the proxy's RSS, and new-connection latency from a pod through a VIP and straight
 * to the pod IP, with no other Services and with all of them.
 *
 * Selectable: BENCH_PROXY_MODES (default "iptables,nftables"), BENCH_PROXY_SIZES (default "1000"; iptables at
 * 10000 takes several minutes), BENCH_PROXY_CONNECTS (connections per latency figure, default 2000).
 */
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { kubeconfigText } from '../src/client/kubeconfig.ts';
import { startApiServer, type TestApiServer } from '../test/support/apiserver.ts';
import { Lab } from '../test/support/netns.ts';
import { NODE, TSKUBE, type StartedProcess } from '../test/support/processes.ts';
import { sleep, waitFor } from '../src/util/wait.ts';
import { syntheticCluster } from './synthetic-cluster.ts';
import type { Resource } from '../src/client/client.ts';

type Mode = 'iptables' | 'nftables';

export async function run(): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stdout.write('proxy: skipped (needs root for network namespaces)\n');
    return;
  }
  const modes = (process.env.BENCH_PROXY_MODES ?? 'iptables,nftables').split(',') as Mode[];
  const sizes = (process.env.BENCH_PROXY_SIZES ?? '1000').split(',').map(Number);
  for (const n of sizes) for (const mode of modes) await one(mode, n);
}

/** A TCP server that answers its name, and a client that measures connects or waits for an answer. */
const SERVER = (name: string) =>
  `require('net').createServer((s)=>{s.on('error',()=>{});s.end(${JSON.stringify(name)})}).listen(8080,()=>{},).on('error',(e)=>{console.error(e);process.exit(1)})`;
const LATENCY = `const net=require('net');const [ip,port,n]=process.argv.slice(1);const out=[];let i=0,errors=0;
function one(){const t=process.hrtime.bigint();const s=net.connect({host:ip,port:+port},()=>{out.push(Number(process.hrtime.bigint()-t)/1000);s.destroy();if(++i<+n)setImmediate(one);else done()});s.on('error',(e)=>{s.destroy();if(++errors>100){console.log(JSON.stringify({error:e.code}));process.exit(1)}setTimeout(one,5)})}
function done(){out.sort((a,b)=>a-b);const q=(p)=>out[Math.floor(p*(out.length-1))].toFixed(0);console.log(JSON.stringify({p50:q(0.5),p90:q(0.9),p99:q(0.99)}))}one()`;
/** Every 2 ms a new connection attempt; prints the wall-clock time of the first answer equal to want. */
const WAIT_FOR = `const net=require('net');const [ip,port,want]=process.argv.slice(1);let done=false;
const iv=setInterval(()=>{const s=net.connect({host:ip,port:+port});s.setTimeout(3000,()=>s.destroy());s.on('error',()=>{});s.on('data',(d)=>{if(!done&&String(d)===want){done=true;console.log(Date.now());clearInterval(iv);setTimeout(()=>process.exit(0),50)}s.destroy()})},2);`;

async function one(mode: Mode, n: number): Promise<void> {
  const lab = new Lab('tkb');
  const node = await lab.ns('node');
  const bare = await lab.ns('bare');
  let server: TestApiServer | undefined;
  let proxy: StartedProcess | undefined;
  try {
    await lab.veth(
      { ns: '', dev: 'tkb-r0', cidr: '192.168.233.1/30' },
      { ns: node, dev: 'eth1', cidr: '192.168.233.2/30' },
    );
    await lab.ip(
      node,
      'link add cbr0 address 02:42:0a:f4:01:01 type bridge\naddr add 10.244.1.1/24 dev cbr0\nlink set cbr0 up\nroute add 10.96.0.0/12 dev cbr0',
    );
    await lab.sysctl(node, 'net.ipv4.ip_forward', '1');
    const pod1 = await lab.pod(node, 'cbr0', 'pod1', '10.244.1.2', '10.244.1.1', 24, { http: false });
    const pod2 = await lab.pod(node, 'cbr0', 'pod2', '10.244.1.3', '10.244.1.1', 24, { http: false });
    const client = await lab.pod(node, 'cbr0', 'client', '10.244.1.4', '10.244.1.1', 24, { http: false });
    const servers = [lab.start(pod1, [NODE, '-e', SERVER('pod1')]), lab.start(pod2, [NODE, '-e', SERVER('pod2')])];
    for (const [i, ip] of ['10.244.1.2', '10.244.1.3'].entries()) {
      const probe = lab.start(client, [NODE, '-e', WAIT_FOR, ip, '8080', `pod${i + 1}`]);
      await waitFor(`pod${i + 1} to serve (${servers[i]!.output()})`, () => /^\d+$/m.test(probe.output()), {
        timeoutMs: 20_000,
        intervalMs: 20,
      });
    }
    server = await startApiServer({ bindAddress: '192.168.233.1', serviceClusterIpRange: '10.96.0.0/12' });
    const api = server.client;
    const svcInfo = api.resource('services') as Resource<any>;
    const sliceInfo = api.resource('endpointslices') as Resource<any>;
    await api.create(api.resource('namespaces') as Resource<any>, undefined, { metadata: { name: 'bench' } });
    const slice = (name: string, ip: string) => ({
      metadata: { name: `${name}-x`, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ port: 8080, protocol: 'TCP' }],
      endpoints: [{ addresses: [ip], conditions: { ready: true } }],
    });
    const lat = await api.create(svcInfo, 'bench', { metadata: { name: 'lat' }, spec: { ports: [{ port: 80 }] } });
    await api.create(sliceInfo, 'bench', slice('lat', '10.244.1.2'));
    const kubeconfig = join(server.dir, 'node.kubeconfig');
    await writeFile(kubeconfig, kubeconfigText(server.url));
    const startProxy = () =>
      lab.start(node, [
        TSKUBE,
        'proxy',
        `--proxy-mode=${mode}`,
        `--kubeconfig=${kubeconfig}`,
        '--hostname-override=node1',
        '--cluster-cidr=10.244.0.0/16',
        '--healthz-bind-address=127.0.0.1:10256',
        '--metrics-bind-address=127.0.0.1:10249',
        '--iptables-min-sync-period=0s',
      ]);
    const metric = async (name: string) => {
      const text = (await lab.tryExec(node, ['curl', '-s', 'http://127.0.0.1:10249/metrics'])).stdout;
      return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 'NaN');
    };
    const synced = () =>
      waitFor(
        'a full sync',
        async () => (await metric('kubeproxy_sync_full_proxy_rules_duration_seconds_count')) >= 1,
        { timeoutMs: 900_000, intervalMs: 200 },
      );
    const connects = process.env.BENCH_PROXY_CONNECTS ?? '2000';
    const latency = async (ip: string, port: number) => {
      const r = await lab.tryExec(client, [NODE, '-e', LATENCY, ip, String(port), connects], { timeoutMs: 600_000 });
      if (!r.ok) {
        const state =
          mode === 'iptables'
            ? await lab.exec(node, ['iptables-save'])
            : await lab.exec(node, ['nft', 'list', 'ruleset']);
        const slices = await api.list(sliceInfo, { namespace: 'bench' });
        throw new Error(
          `Cannot connect to ${ip}:${port}: ${r.stdout}\n${state.slice(0, 6000)}\n${JSON.stringify(slices.items.map((i: any) => [i.metadata.name, i.endpoints, i.ports]))}`,
        );
      }
      return JSON.parse(r.stdout.trim()) as { p50: string; p90: string; p99: string };
    };

    // 1. No other Services: connect latency through the VIP and straight to the pod.
    proxy = startProxy();
    await synced();
    const vip0 = await latency(lat.spec.clusterIP, 80);
    const direct0 = await latency('10.244.1.2', 8080);
    await proxy.stop();

    // 2. n Services × 10 endpoints, then a restart: its first sync is a full one over all of them.
    const { services, endpointSlices } = syntheticCluster(n, 10);
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < n) {
          const i = next++;
          await api.create(svcInfo, 'bench', { ...services[i], spec: { ...services[i].spec, clusterIP: undefined } });
          await api.create(sliceInfo, 'bench', endpointSlices[i]);
        }
      }),
    );
    const started = performance.now();
    proxy = startProxy();
    await synced();
    const startToSynced = (performance.now() - started) / 1000;
    const fullSync = await metric('kubeproxy_sync_full_proxy_rules_duration_seconds_sum');
    const rules = await lab.exec(node, ['curl', '-s', 'http://127.0.0.1:10249/debug/rules'], { timeoutMs: 300_000 });
    const t = performance.now();
    if (mode === 'iptables')
      await lab.exec(bare, ['iptables-restore', '-w', '5', '--noflush'], { input: rules, timeoutMs: 900_000 });
    else await lab.exec(bare, ['nft', '-f', '-'], { input: rules, timeoutMs: 900_000 });
    const bareApply = (performance.now() - t) / 1000;
    const ruleCount =
      mode === 'iptables' ? (rules.match(/^-A /gm) ?? []).length : (rules.match(/^add (rule|element) /gm) ?? []).length;

    // 3. Latency with all of them.
    const vipN = await latency(lat.spec.clusterIP, 80);
    const directN = await latency('10.244.1.2', 8080);

    // 4. One new Service (with its endpoint) until a connection through its VIP is answered.
    const changedIP = '10.111.255.250';
    const waitService = lab.start(client, [NODE, '-e', WAIT_FOR, changedIP, '80', 'pod2']);
    await sleep(200);
    const serviceStart = Date.now();
    await api.create(svcInfo, 'bench', {
      metadata: { name: 'changed' },
      spec: { clusterIP: changedIP, ports: [{ port: 80 }] },
    });
    await api.create(sliceInfo, 'bench', slice('changed', '10.244.1.3'));
    await waitFor('the new Service to answer', () => /^\d+$/m.test(waitService.output()), {
      timeoutMs: 900_000,
      intervalMs: 5,
    });
    const serviceChange = Number(waitService.output().trim().split('\n')[0]) - serviceStart;

    // 5. One endpoint change (pod1 → pod2 behind "lat") until a new connection reaches pod2.
    const waitEndpoint = lab.start(client, [NODE, '-e', WAIT_FOR, lat.spec.clusterIP, '80', 'pod2']);
    await sleep(200);
    const current = await api.get(sliceInfo, 'bench', 'lat-x');
    const endpointStart = Date.now();
    await api.update(sliceInfo, {
      ...current,
      endpoints: [{ addresses: ['10.244.1.3'], conditions: { ready: true } }],
    });
    await waitFor('the endpoint change to carry traffic', () => /^\d+$/m.test(waitEndpoint.output()), {
      timeoutMs: 900_000,
      intervalMs: 5,
    });
    const endpointChange = Number(waitEndpoint.output().trim().split('\n')[0]) - endpointStart;

    const rss = proxyRssMiB(proxy.pid);
    const us = (l: { p50: string; p90: string }) => `${l.p50}/${l.p90} µs`;
    process.stdout.write(
      `${mode} ${n} services × 10 endpoints: ${ruleCount} ${mode === 'iptables' ? 'rules' : 'rules+elements'}; proxy start → synced ${startToSynced.toFixed(1)} s; ` +
        `full sync ${fullSync.toFixed(2)} s vs bare ${mode === 'iptables' ? 'iptables-restore' : 'nft -f'} ${bareApply.toFixed(2)} s (ratio ${(fullSync / bareApply).toFixed(2)}); ` +
        `one Service change → traffic ${serviceChange} ms; one endpoint change → traffic ${endpointChange} ms; proxy RSS ${rss.toFixed(0)} MiB; ` +
        `connect p50/p90 via VIP ${us(vip0)} (no other Services) → ${us(vipN)}; direct to pod ${us(direct0)} → ${us(directN)}\n`,
    );
  } finally {
    await proxy?.stop();
    await server?.stop();
    await lab.destroy();
  }
}

/** proxyRssMiB is the resident memory of the proxy's node process (below nsenter and bin/tskube). */
function proxyRssMiB(pid: number): number {
  const children = (p: number): number[] => {
    try {
      return readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  let best = 0;
  const walk = (p: number) => {
    try {
      const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) / 1024;
      best = Math.max(best, rss);
    } catch {
      // the process is gone
    }
    for (const c of children(p)) walk(c);
  };
  walk(pid);
  return best;
}
