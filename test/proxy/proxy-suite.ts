/**
 * `tskube proxy` on the real kernel, run once per mode (proxy-iptables.test.ts, proxy-nftables.test.ts). Topology (all namespaces prefixed tkp-): node "tkp-node" with the pod bridge
 * cbr0 10.244.1.1/24 and pods pod1 (10.244.1.2) and pod2 (10.244.1.3) serving HTTP, plus a client pod (10.244.1.4);
 * "tkp-ext" on the node's LAN (192.168.232.0/24) for NodePort traffic; a veth from the root namespace
 * (192.168.231.1/30, no forwarding) on which the test's API server listens. Services come from 10.96.0.0/16;
 * the test writes EndpointSlices itself, playing the controller manager.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../src/sys/run.ts';
import { startApiServer, type TestApiServer } from '../support/apiserver.ts';
import { Lab, NOT_ROOT } from '../support/netns.ts';
import { NODE, TSKUBE, type StartedProcess } from '../support/processes.ts';
import { waitFor } from '../../src/util/wait.ts';
import type { Resource } from '../../src/client/client.ts';

const NODE_LAN_IP = '192.168.232.1';

export type Mode = 'iptables' | 'nftables';

/** proxySuite is every kernel test of one mode; the namespaces are prefixed with prefix (one lab per file). */
export function proxySuite(mode: Mode, prefix: string): void {
  describe(`tskube proxy in a node namespace (${mode} mode)`, { skip: NOT_ROOT }, () => {
    const lab = new Lab(prefix);
    let server: TestApiServer;
    let node: string;
    let client: string;
    let pod1: string;
    let ext: string;
    let proxy: StartedProcess;
    const services = () => server.client.resource('services') as Resource<any>;
    const slices = () => server.client.resource('endpointslices') as Resource<any>;
    const server_client = () => server.client;

    /** proxyArgs: the proxy on node1 as every test here runs it, in a given mode. */
    const proxyArgs = (proxyMode: string) => [
      TSKUBE,
      'proxy',
      `--kubeconfig=${server.kubeconfig}`,
      '--hostname-override=node1',
      '--cluster-cidr=10.244.0.0/16',
      '--healthz-bind-address=127.0.0.1:10256',
      '--metrics-bind-address=127.0.0.1:10249',
      '--iptables-min-sync-period=0s',
      '-v=2',
      `--proxy-mode=${proxyMode}`,
    ];
    const startProxy = () => {
      proxy = lab.start(node, proxyArgs(mode));
      return proxy;
    };
    const curl = async (ns: string, url: string) =>
      (await lab.tryExec(ns, ['curl', '-s', '-m', '2', url], { timeoutMs: 5000 })).stdout.trim();
    const who = async (ns: string, url: string, times: number) => {
      const seen: Record<string, number> = {};
      for (let i = 0; i < times; i++) {
        const answer = (await curl(ns, url)) || 'FAIL';
        seen[answer] = (seen[answer] ?? 0) + 1;
      }
      return seen;
    };
    // What the kernel holds for kube-proxy in this mode (iptables nat table, or the nftables table).
    const natRules = () =>
      mode === 'iptables'
        ? lab.exec(node, ['iptables-save', '-t', 'nat'])
        : lab.exec(node, ['nft', 'list', 'table', 'ip', 'kube-proxy']);
    const hasService = async (clusterIP: string) =>
      mode === 'iptables'
        ? (await natRules()).includes(`-d ${clusterIP}/32`)
        : (await natRules()).includes(`${clusterIP} . tcp . 80 : goto service-`);
    const createService = async (name: string, spec: Record<string, unknown>) =>
      (
        await server.client.create(services(), 'default', {
          metadata: { name },
          spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }], ...spec },
        })
      ).spec;
    const setEndpoints = async (service: string, ips: string[]) => {
      const body = {
        metadata: { name: `${service}-slice`, labels: { 'kubernetes.io/service-name': service } },
        addressType: 'IPv4',
        ports: [{ name: '', port: 80, protocol: 'TCP' }],
        endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true }, nodeName: 'node1' })),
      };
      try {
        const current = await server.client.get(slices(), 'default', `${service}-slice`);
        await server.client.update(slices(), {
          ...body,
          metadata: { ...body.metadata, namespace: 'default', resourceVersion: current.metadata.resourceVersion },
        });
      } catch {
        await server.client.create(slices(), 'default', body);
      }
    };

    before(async () => {
      node = await lab.ns('node');
      await lab.veth(
        { ns: '', dev: `${prefix}-r0`, cidr: '192.168.231.1/30' },
        { ns: node, dev: 'eth1', cidr: '192.168.231.2/30' },
      );
      await lab.ip(
        node,
        'link add cbr0 address 02:42:0a:f4:01:01 type bridge\naddr add 10.244.1.1/24 dev cbr0\nlink set cbr0 up\nroute add 10.96.0.0/16 dev cbr0',
      );
      await lab.sysctl(node, 'net.ipv4.ip_forward', '1');
      ext = await lab.ns('ext');
      await lab.veth(
        { ns: node, dev: 'eth2', cidr: `${NODE_LAN_IP}/24` },
        { ns: ext, dev: 'eth0', cidr: '192.168.232.2/24' },
      );
      pod1 = await lab.pod(node, 'cbr0', 'pod1', '10.244.1.2', '10.244.1.1', 24);
      await lab.pod(node, 'cbr0', 'pod2', '10.244.1.3', '10.244.1.1', 24);
      client = await lab.pod(node, 'cbr0', 'client', '10.244.1.4', '10.244.1.1', 24, { http: false });
      server = await startApiServer({ bindAddress: '192.168.231.1', serviceClusterIpRange: '10.96.0.0/16' });
      await waitFor('pods to serve', async () => (await curl(client, 'http://10.244.1.3/')) === 'pod2');
    });

    after(async () => {
      await proxy?.stop();
      await server?.stop();
      await lab.destroy();
    });

    test('a ClusterIP without rules fails; with the proxy it reaches both pods from the node and from a pod', async () => {
      const { clusterIP } = await createService('web', { type: 'NodePort' });
      await setEndpoints('web', ['10.244.1.2', '10.244.1.3']);
      assert.equal(await curl(client, `http://${clusterIP}/`), '', 'no answer before kube-proxy runs');
      startProxy();
      await waitFor(
        'the first sync',
        async () =>
          (await lab.tryExec(node, ['curl', '-s', 'http://127.0.0.1:10256/livez'])).stdout.includes('"healthy":true'),
        { timeoutMs: 20_000 },
      );
      assert.ok(await hasService(clusterIP));
      const fromNode = await who(node, `http://${clusterIP}/`, 30);
      assert.ok(fromNode.pod1 && fromNode.pod2 && !fromNode.FAIL, JSON.stringify(fromNode));
      const fromPod = await who(client, `http://${clusterIP}/`, 30);
      assert.ok(fromPod.pod1 && fromPod.pod2 && !fromPod.FAIL, JSON.stringify(fromPod));
      const rules = await natRules();
      if (mode === 'iptables')
        assert.match(
          rules,
          /-A KUBE-SVC-\w+ -m comment --comment "default\/web -> 10\.244\.1\.2:80" -m statistic --mode random --probability 0\.5000000000\d* -j KUBE-SEP-\w+/,
        );
      else
        assert.match(
          rules,
          /chain service-\w{8}-default\/web\/tcp\/ \{\n.*\n\s+numgen random mod 2 0 meta l4proto tcp dnat to 10\.244\.1\.2:80\n\s+meta l4proto tcp dnat to 10\.244\.1\.3:80/,
        );
    });

    test('tskube trace follows a connection through the live rules: both pods, half each', async () => {
      const { clusterIP } = (await server.client.get(services(), 'default', 'web')).spec;
      const trace = async (from: string) =>
        (await run([TSKUBE, 'trace', `--name=${prefix}`, '--node=node', `--from=${from}`, `--to=${clusterIP}:80/tcp`]))
          .stdout;
      const stdout = await trace('10.244.1.4');
      assert.match(stdout, new RegExp(`^${mode}: `, 'm'));
      assert.match(stdout, /^summary:\n {4}50\.0% 10\.244\.1\.2:80\n {4}50\.0% 10\.244\.1\.3:80\n$/m);
      if (mode === 'iptables')
        assert.match(stdout, /-j DNAT --to-destination 10\.244\.1\.2:80 {2}\[[1-9]\d* packets\]/, 'live counters');
      // An endpoint to its own Service: that branch is masqueraded (iptables-save prints MARK as --set-xmark).
      assert.match(
        await trace('10.244.1.2'),
        /^summary:\n {4}50\.0% 10\.244\.1\.2:80 \(masqueraded\)\n {4}50\.0% 10\.244\.1\.3:80\n$/m,
      );
    });

    test('a pod reaches itself through its own service (hairpin)', async () => {
      const { clusterIP } = (await server.client.get(services(), 'default', 'web')).spec;
      const seen = await who(pod1, `http://${clusterIP}/cgi-bin/ip`, 20);
      const self = Object.keys(seen).find((k) => k.startsWith('pod1 client='));
      assert.ok(self, JSON.stringify(seen));
      assert.equal(self, 'pod1 client=10.244.1.1', 'hairpin traffic is masqueraded to the bridge address');
    });

    test("the NodePort answers from another namespace on the node's network", async () => {
      const { ports } = (await server.client.get(services(), 'default', 'web')).spec;
      const seen = await who(ext, `http://${NODE_LAN_IP}:${ports[0].nodePort}/`, 10);
      assert.ok(!seen.FAIL && (seen.pod1 ?? 0) + (seen.pod2 ?? 0) === 10, JSON.stringify(seen));
    });

    test('ClientIP session affinity pins a client to one pod', async () => {
      const { clusterIP } = await createService('sticky', { sessionAffinity: 'ClientIP' });
      await setEndpoints('sticky', ['10.244.1.2', '10.244.1.3']);
      await waitFor('rules for sticky', () => hasService(clusterIP));
      const seen = await who(client, `http://${clusterIP}/`, 12);
      assert.equal(Object.keys(seen).length, 1, JSON.stringify(seen));
      assert.match(
        await natRules(),
        mode === 'iptables'
          ? /--rcheck --seconds 10800 --reap/
          : /set affinity-\w{8}-default\/sticky\/tcp\/__10\.244\.1\.\d\/80 \{\n\s+type ipv4_addr\n\s+size \d+\n\s+flags dynamic,timeout\n\s+timeout 3h/,
      );
    });

    test('removing an endpoint moves traffic within a second', async () => {
      const { clusterIP } = (await server.client.get(services(), 'default', 'web')).spec;
      const started = Date.now();
      await setEndpoints('web', ['10.244.1.2']);
      await waitFor(
        'only pod1 to answer',
        async () => {
          const seen = await who(client, `http://${clusterIP}/`, 4);
          return seen.pod1 === 4;
        },
        { timeoutMs: 5000, intervalMs: 20 },
      );
      const elapsed = Date.now() - started;
      assert.ok(elapsed < 1000, `took ${elapsed} ms`);
    });

    test('a service without endpoints is rejected at once (connection refused, not a timeout)', async () => {
      const { clusterIP } = await createService('empty', {});
      await waitFor('the REJECT rule', async () =>
        mode === 'iptables'
          ? (await lab.exec(node, ['iptables-save', '-t', 'filter'])).includes(`"default/empty has no endpoints"`)
          : (await natRules()).includes(`${clusterIP} . tcp . 80 comment "default/empty" : goto reject-chain`),
      );
      const started = Date.now();
      const fromNode = await lab.tryExec(node, ['curl', '-sS', '-m', '3', `http://${clusterIP}/`]);
      assert.equal(fromNode.ok, false);
      assert.match(fromNode.stderr, /Couldn't connect|Connection refused/);
      assert.ok(Date.now() - started < 1000, 'refused quickly');
      // From a pod the REJECT fires too (its counter moves) and nothing answers.
      const fromPod = await lab.tryExec(client, ['curl', '-sS', '-m', '2', `http://${clusterIP}/`]);
      assert.equal(fromPod.ok, false);
      if (mode === 'iptables') {
        const counters = await lab.exec(node, ['iptables', '-t', 'filter', '-L', 'KUBE-SERVICES', '-nvx']);
        assert.match(counters, new RegExp(`^\\s+[1-9]\\d*\\s+\\d+\\s+REJECT.*${clusterIP.replace(/\./g, '\\.')}`, 'm'));
      }
    });

    test('a health check node port reports local endpoints for externalTrafficPolicy Local', async () => {
      const spec = await createService('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' });
      await setEndpoints('lb', ['10.244.1.2', '10.244.1.3']);
      assert.ok(spec.healthCheckNodePort >= 30000, 'allocated by the API server');
      const body = await waitFor('the health check to count both local endpoints', async () => {
        const out = (
          await lab.tryExec(ext, ['curl', '-s', '-i', '-m', '2', `http://${NODE_LAN_IP}:${spec.healthCheckNodePort}/`])
        ).stdout;
        return out.includes('"localEndpoints":2') ? out : undefined;
      });
      assert.match(body, /^HTTP\/1\.1 200/);
      assert.match(body, /X-Load-Balancing-Endpoint-Weight: 2/i);
      assert.match(body, /"localEndpoints":2,"serviceProxyHealthy":true/);
    });

    test('removing a UDP endpoint clears its conntrack entries: the same client flow moves to the other pod', async () => {
      const { clusterIP } = await createService('dns', { ports: [{ port: 53, targetPort: 5353, protocol: 'UDP' }] });
      const server = (name: string) =>
        `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(${JSON.stringify(name)},r.port,r.address));s.bind(5353);`;
      lab.start(pod1, [NODE, '-e', server('pod1')]);
      lab.start(`${prefix}-pod2`, [NODE, '-e', server('pod2')]);
      const body = {
        metadata: { name: 'dns-slice', labels: { 'kubernetes.io/service-name': 'dns' } },
        addressType: 'IPv4',
        ports: [{ name: '', port: 5353, protocol: 'UDP' }],
        endpoints: [{ addresses: ['10.244.1.2'], conditions: { ready: true } }],
      };
      const created = await server_client().create(slices(), 'default', body);
      // One client socket (one conntrack flow), a datagram every 100 ms, printing who answered.
      const client_ = lab.start(client, [
        NODE,
        '-e',
        `const s=require('dgram').createSocket('udp4');s.bind(40000,()=>setInterval(()=>s.send('q',53,'${clusterIP}'),100));s.on('message',(m)=>console.log(String(m)));`,
      ]);
      await waitFor('pod1 to answer', () => client_.output().includes('pod1'), { timeoutMs: 10_000 });
      const mark = client_.output().length;
      await server_client().update(slices(), {
        ...body,
        metadata: { ...body.metadata, namespace: 'default', resourceVersion: created.metadata.resourceVersion },
        endpoints: [{ addresses: ['10.244.1.3'], conditions: { ready: true } }],
      });
      await waitFor('the flow to move to pod2', () => client_.output().slice(mark).includes('pod2'), {
        timeoutMs: 5000,
      });
    });

    test('/healthz and /metrics answer like upstream', async () => {
      const health = JSON.parse(await lab.exec(node, ['curl', '-s', 'http://127.0.0.1:10256/livez']));
      assert.equal(health.healthy, true);
      const metrics = await lab.exec(node, ['curl', '-s', 'http://127.0.0.1:10249/metrics']);
      assert.match(metrics, /^kubeproxy_sync_proxy_rules_duration_seconds_count [1-9]/m);
      if (mode === 'iptables') assert.match(metrics, /^kubeproxy_sync_proxy_rules_iptables_last\{table="nat"\} [1-9]/m);
      else assert.match(metrics, /^kubeproxy_sync_proxy_rules_nftables_sync_failures_total 0$/m);
      assert.match(metrics, /^kubeproxy_sync_proxy_rules_endpoint_changes_total [1-9]/m);
      assert.equal(await lab.exec(node, ['curl', '-s', 'http://127.0.0.1:10249/proxyMode']), mode);
    });

    test('a kill -9 and restart keeps the VIP answering throughout', async () => {
      const { clusterIP } = (await server.client.get(services(), 'default', 'web')).spec;
      await setEndpoints('web', ['10.244.1.2', '10.244.1.3']);
      await waitFor('both pods again', async () => {
        const s = await who(client, `http://${clusterIP}/`, 6);
        return s.pod1 && s.pod2;
      });
      await proxy.stop('SIGKILL');
      const during = await who(client, `http://${clusterIP}/`, 10);
      startProxy();
      const restarted = await who(client, `http://${clusterIP}/`, 10);
      assert.ok(!during.FAIL && !restarted.FAIL, JSON.stringify({ during, restarted }));
      await waitFor(
        'the restarted proxy to sync',
        async () =>
          (await lab.tryExec(node, ['curl', '-s', 'http://127.0.0.1:10256/livez'])).stdout.includes('"healthy":true'),
        { timeoutMs: 20_000 },
      );
    });

    test(`switching from ${mode} to ${other(mode)} mode on the live node refuses no connection to a VIP`, async () => {
      const { clusterIP } = (await server.client.get(services(), 'default', 'web')).spec;
      // A client pod asks the VIP every 20 ms through the switch and prints each answer (or FAIL).
      const loop = `const http=require('http');let n=0;setInterval(()=>{const r=http.get({host:'${clusterIP}',port:80,path:'/',agent:false,timeout:2000},(res)=>{let b='';res.on('data',(d)=>b+=d);res.on('end',()=>console.log(b.trim()))});r.on('error',(e)=>console.log('FAIL '+e.code));r.on('timeout',()=>r.destroy())},20);`;
      const asker = lab.start(client, [NODE, '-e', loop]);
      await waitFor('the asker to get answers', () => /pod[12]/.test(asker.output()), { timeoutMs: 10_000 });
      await proxy.stop();
      proxy = lab.start(node, proxyArgs(other(mode)));
      await waitFor(
        'the other mode to take over and clean up',
        async () => {
          const ipt = await lab.exec(node, ['iptables-save']);
          const nft = (await lab.tryExec(node, ['nft', 'list', 'table', 'ip', 'kube-proxy'])).stdout;
          return other(mode) === 'nftables'
            ? !ipt.includes('KUBE-') && nft.includes(clusterIP)
            : ipt.includes(`-d ${clusterIP}/32`) && nft === '';
        },
        { timeoutMs: 20_000 },
      );
      const mark = asker.output().length;
      await waitFor(
        'more answers after the switch',
        () =>
          (
            asker
              .output()
              .slice(mark)
              .match(/pod[12]/g) ?? []
          ).length >= 20,
        { timeoutMs: 10_000 },
      );
      await asker.stop();
      const answers = asker.output().trim().split('\n');
      assert.ok(answers.length >= 20, `${answers.length} answers`);
      assert.deepEqual(
        answers.filter((a) => !/^pod[12]$/.test(a)),
        [],
        'every request through the switch was answered',
      );
      assert.equal(await lab.exec(node, ['curl', '-s', 'http://127.0.0.1:10249/proxyMode']), other(mode));
    });

    test('--cleanup removes every chain and table either mode made and nothing else', async () => {
      await lab.exec(node, ['iptables', '-t', 'nat', '-N', 'DOCKER']);
      await proxy.stop();
      await run(['nsenter', `--net=/run/netns/${node}`, '--', TSKUBE, 'proxy', '--cleanup']);
      const nat = await lab.exec(node, ['iptables-save', '-t', 'nat']);
      const filter = await lab.exec(node, ['iptables-save', '-t', 'filter']);
      assert.doesNotMatch(nat + filter, /KUBE-/);
      assert.match(nat, /^:DOCKER/m, "another tool's chain stays");
      assert.doesNotMatch(await lab.exec(node, ['nft', 'list', 'tables']), /kube-proxy/);
    });
  });
}

function other(mode: Mode): Mode {
  return mode === 'iptables' ? 'nftables' : 'iptables';
}
