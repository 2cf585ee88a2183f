/**
 * The seed lab walked by hand on `tskube up --lab`, step by step, asserting at each step what the lab says a user
 * sees: overlapping docker0 subnets, the VIP refused without kube-proxy, the FORWARD drop after the routes, success
 * after the FORWARD rule, and the VIP balancing once kube-proxy runs from a --write-config-to file.
 * Cluster "tkl" on LAN 192.168.227.0/24 (nodea .10, nodeb .11), state in a temp dir; `tskube down` in after().
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { run } from '../../src/sys/run.ts';
import { kubectl, kubectlAvailable } from '../support/kubectl.ts';
import { NOT_ROOT } from '../support/netns.ts';
import { TSKUBE, startProcess, waitFor, type StartedProcess } from '../support/processes.ts';

const LAB = fileURLToPath(new URL('../../examples/lab/', import.meta.url));
const NAME = 'tkl';
const NODE_IP = { nodea: '192.168.227.10', nodeb: '192.168.227.11' } as const;

describe('the lab by hand on tskube up --lab', { skip: NOT_ROOT || (!kubectlAvailable('1.33') && 'kubectl 1.33 is not installed') }, () => {
  let stateDir: string;
  let cache: string;
  const proxies: StartedProcess[] = [];
  const flags = () => [`--name=${NAME}`, `--state-dir=${stateDir}`];
  const k = (args: string[]) => kubectl('1.33', join(stateDir, 'admin.conf'), cache, args, { cwd: LAB });
  const sh = (node: string, argv: string[], timeoutMs = 15_000) => run([TSKUBE, 'exec', node, ...flags(), '--', ...argv], { timeoutMs });
  const curl = async (node: string, url: string) => {
    try {
      return { code: 0, out: (await sh(node, ['curl', '-sS', '-I', '-m', '2', url])).stdout };
    } catch (error: any) {
      return { code: error.exitCode as number, out: String(error.stderr) };
    }
  };
  const pods = async () => JSON.parse((await k(['get', 'pods', '-l', 'app=nginx', '-o', 'json'])).stdout).items as any[];
  const runningPods = () => waitFor('two running pods', async () => {
    const list = await pods();
    return list.length === 2 && list.every((p) => p.status.phase === 'Running' && p.status.containerStatuses?.[0]?.ready && !p.metadata.deletionTimestamp) ? list : undefined;
  }, 60_000);
  const deleteAll = async () => {
    await k(['delete', '-f', 'testdep.yaml', '-f', 'nsvc.yaml']);
    await waitFor('no pods', async () => (await pods()).length === 0, 60_000);
  };

  before(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'tskube-lab-'));
    cache = await mkdtemp(join(tmpdir(), 'kubectl-cache-'));
    await run([TSKUBE, 'up', '--lab', ...flags(), '--lan-cidr=192.168.227.0/24'], { timeoutMs: 120_000 });
  });

  after(async () => {
    for (const p of proxies) await p.stop();
    if (stateDir) await run([TSKUBE, 'down', ...flags()], { timeoutMs: 60_000 });
    await rm(cache, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  });

  test('1. both docker0 bridges use 172.17.0.1/16, so the two pods get addresses from the same subnet', async () => {
    for (const node of ['nodea', 'nodeb']) assert.match((await sh(node, ['ip', 'a', 'show', 'dev', 'docker0'])).stdout, /inet 172\.17\.0\.1\/16/);
    await k(['create', '-f', 'testdep.yaml']);
    const list = await runningPods();
    assert.ok(list.every((p) => p.status.podIP.startsWith('172.17.')), list.map((p) => p.status.podIP).join(' '));
    assert.notEqual(list[0].spec.nodeName, list[1].spec.nodeName);
  });

  test('1. the Service VIP is refused: nothing programs it yet', async () => {
    await k(['create', '-f', 'nsvc.yaml']);
    const vip = (await k(['get', 'svc', 'nsvc', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
    const result = await curl('nodea', `${vip}:2000`);
    assert.equal(result.code, 7, result.out);
    assert.match(result.out, /Connection refused|Couldn't connect/);
    await deleteAll();
  });

  test('2a. nodeb gets its own docker0 subnet 172.18.0.1/16 and its kubelet is restarted', async () => {
    await sh('nodeb', ['ip', 'addr', 'del', '172.17.0.1/16', 'dev', 'docker0']);
    await sh('nodeb', ['ip', 'addr', 'add', '172.18.0.1/16', 'dev', 'docker0']);
    const records = JSON.parse(await readFile(join(stateDir, 'processes.json'), 'utf8'));
    const kubelet = records.find((r: any) => r.component === 'kubelet' && r.node === 'nodeb');
    process.kill(-kubelet.pid, 'SIGTERM');
    await waitFor('the kubelet to stop', async () => (await run([TSKUBE, 'status', ...flags()])).stdout.includes('stopped'));
    await run([TSKUBE, 'up', '--repair', ...flags()], { timeoutMs: 60_000 });
    await k(['create', '-f', 'testdep.yaml']);
    const list = await runningPods();
    const nodeb = list.find((p) => p.spec.nodeName === 'nodeb');
    assert.match(nodeb.status.podIP, /^172\.18\./);
  });

  test('2b. nodea cannot reach the nodeb pod without a route; with the route the FORWARD policy drops it', async () => {
    const target = (await pods()).find((p) => p.spec.nodeName === 'nodeb').status.podIP;
    const before = await curl('nodea', target);
    assert.notEqual(before.code, 0);
    await sh('nodea', ['ip', 'route', 'add', '172.18.0.0/16', 'via', NODE_IP.nodeb]);
    const dropped = await curl('nodea', target);
    assert.equal(dropped.code, 28, `timed out: ${dropped.out}`);
    assert.match((await sh('nodeb', ['iptables', '-L', 'FORWARD', '-vn'])).stdout, /Chain FORWARD \(policy DROP [1-9]\d* packets/);
  });

  test('2c and 3. the FORWARD rules open both ways: pods are reachable across nodes', async () => {
    await sh('nodeb', ['iptables', '-A', 'FORWARD', '-i', 'eth0', '-d', '172.18.0.0/16', '-j', 'ACCEPT']);
    const list = await pods();
    const onB = list.find((p) => p.spec.nodeName === 'nodeb').status.podIP;
    const onA = list.find((p) => p.spec.nodeName === 'nodea').status.podIP;
    assert.match((await curl('nodea', onB)).out, /^HTTP\/1\.1 200 OK/);
    await sh('nodeb', ['ip', 'route', 'add', '172.17.0.0/16', 'via', NODE_IP.nodea]);
    await sh('nodea', ['iptables', '-A', 'FORWARD', '-i', 'eth0', '-d', '172.17.0.0/16', '-j', 'ACCEPT']);
    assert.match((await curl('nodeb', onA)).out, /^HTTP\/1\.1 200 OK/);
  });

  test('4-6. the VIP is refused until kube-proxy runs from its --write-config-to file, then answers on both nodes', async () => {
    await k(['create', '-f', 'nsvc.yaml']);
    const vip = (await k(['get', 'svc', 'nsvc', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
    assert.equal((await curl('nodea', `${vip}:2000`)).code, 7);
    for (const node of ['nodea', 'nodeb'] as const) {
      const file = join(stateDir, `${node}-kube-proxy-config`);
      await sh(node, [TSKUBE, 'proxy', `--write-config-to=${file}`]);
      const config = parse(await readFile(file, 'utf8'));
      assert.equal(config.kind, 'KubeProxyConfiguration');
      config.clientConnection.kubeconfig = join(stateDir, 'admin.conf');
      config.clusterCIDR = '10.0.0.0/16';
      config.hostnameOverride = node;
      await writeFile(file, stringify(config));
      proxies.push(startProcess(['nsenter', `--net=/run/netns/${NAME}-${node}`, '--', TSKUBE, 'proxy', `--config=${file}`]));
      const ok = await waitFor(`the VIP from ${node}`, async () => {
        const r = await curl(node, `${vip}:2000`);
        return r.code === 0 ? r.out : undefined;
      }, 20_000);
      assert.match(ok, /^HTTP\/1\.1 200 OK/);
    }
    assert.match(proxies[0]!.output(), /Using iptables Proxier/);
    const nat = (await sh('nodea', ['iptables', '-t', 'nat', '-L', '-nv'])).stdout;
    assert.match(nat, /KUBE-SEP-\w+ +0 +-- +\* +\* +0\.0\.0\.0\/0 +0\.0\.0\.0\/0 +\/\* default\/nsvc -> 172\.1[78]\.0\.\d+:80 \*\/ statistic mode random probability 0\.50000000000/);
  });
});
