/**
 * The lab's flow on a cluster from `tskube up` (default mode), with the real kubectl: the Deployment's pods run on
 * both nodes with IPs from each node's subnet, the Service VIP answers from both nodes and from a pod and spreads
 * requests over both pods, the nat table shows the lab's chains, and deleting leaves nothing behind.
 * Cluster "tke" on LAN 192.168.226.0/24, state in a temp dir; `tskube down` in after().
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../../src/sys/run.ts';
import { kubectl, kubectlAvailable } from '../support/kubectl.ts';
import { NOT_ROOT } from '../support/netns.ts';
import { TSKUBE } from '../support/processes.ts';
import { waitFor } from '../../src/util/wait.ts';
import { type TestCluster, upCluster } from '../support/cluster.ts';

const LAB = fileURLToPath(new URL('../../examples/lab/', import.meta.url));
const NAME = 'tke';

describe('tskube up: the lab end to end', {
  skip: NOT_ROOT || (!kubectlAvailable('1.33') && 'kubectl 1.33 is not installed'),
}, () => {
  let cluster: TestCluster | undefined;
  let stateDir: string;
  let cache: string;
  let vip: string;
  const flags = () => [`--name=${NAME}`, `--state-dir=${stateDir}`];
  const k = (args: string[]) => kubectl('1.33', join(stateDir, 'admin.conf'), cache, args, { cwd: LAB });
  const inNode = (node: string, argv: string[]) =>
    run([TSKUBE, 'exec', node, ...flags(), '--', ...argv], { timeoutMs: 15_000 });
  const pods = async () =>
    JSON.parse((await k(['get', 'pods', '-l', 'app=nginx', '-o', 'json'])).stdout).items as any[];

  before(async () => {
    cluster = await upCluster({ name: NAME, lanCidr: '192.168.226.0/24', upTimeoutMs: 180_000 });
    ({ stateDir, cache } = cluster);
    assert.match(cluster.output, /kube-proxy synced on every node/);
    assert.match(cluster.output, /export KUBECONFIG=/);
  });

  after(async () => {
    await cluster?.down();
    const left = (await run(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`${NAME}-`));
    assert.deepEqual(left, [], 'down leaves no namespace');
  });

  test('running up again says the cluster is up and changes nothing', async () => {
    const { stdout } = await run([TSKUBE, 'up', ...flags()], { timeoutMs: 30_000 });
    assert.match(stdout, /is already up/);
  });

  test('a second cluster on the same LAN range is refused before it touches anything', async () => {
    const other = await mkdtemp(join(tmpdir(), 'tskube-e2e-other-'));
    try {
      await assert.rejects(
        run([TSKUBE, 'up', '--name=tkeother', `--state-dir=${other}`, '--lan-cidr=192.168.226.0/24'], {
          timeoutMs: 30_000,
        }),
        (e: any) => {
          assert.equal(e.exitCode, 1);
          assert.match(e.stderr, /Cannot use LAN 192\.168\.226\.0\/24: 192\.168\.226\.1\/24 on tke-cp overlaps it/);
          return true;
        },
      );
      assert.equal((await run(['ip', 'netns', 'list'])).stdout.includes('tkeother-'), false, 'no namespace made');
      assert.match((await k(['get', 'nodes'])).stdout, /^nodea\s+Ready\s/m, 'the first cluster is untouched');
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  test('each node is its own host: hostname prints its name, and kube-proxy finds its Node by it', async () => {
    assert.equal((await inNode('nodea', ['hostname'])).stdout.trim(), 'nodea');
    assert.equal((await inNode('nodeb', ['hostname'])).stdout.trim(), 'nodeb');
    const health = JSON.parse(
      (await inNode('nodeb', ['curl', '-s', '-m', '2', 'http://127.0.0.1:10256/healthz'])).stdout,
    );
    assert.equal(health.nodeEligible, true);
  });

  test('kubectl get nodes shows nodea and nodeb Ready', async () => {
    const { stdout } = await k(['get', 'nodes']);
    assert.match(stdout, /^nodea\s+Ready\s/m);
    assert.match(stdout, /^nodeb\s+Ready\s/m);
  });

  test('the Deployment runs one pod per node, with IPs from two different node subnets', async () => {
    assert.equal((await k(['create', '-f', 'testdep.yaml'])).stdout, 'deployment.apps/nginx-deployment created\n');
    const running = await waitFor(
      'two running pods',
      async () => {
        const list = await pods();
        return list.length === 2 &&
          list.every((p) => p.status.phase === 'Running' && p.status.containerStatuses?.[0]?.ready)
          ? list
          : undefined;
      },
      { timeoutMs: 60_000 },
    );
    assert.notEqual(running[0].spec.nodeName, running[1].spec.nodeName);
    const subnets = running.map((p) => p.status.podIP.split('.').slice(0, 2).join('.'));
    assert.notEqual(subnets[0], subnets[1]);
    const { stdout } = await k(['get', 'deploy,rs,po']);
    assert.match(stdout, /deployment\.apps\/nginx-deployment\s+2\/2\s+2\s+2/);
    assert.match(stdout, /pod\/nginx-deployment-\S+\s+1\/1\s+Running\s+0/);
  });

  test('the Service gets a VIP from 10.0.0.0/16 and describe lists both endpoints', async () => {
    assert.equal((await k(['create', '-f', 'nsvc.yaml'])).stdout, 'service/nsvc created\n');
    const { stdout } = await k(['get', 'svc', 'nsvc', '-o', 'jsonpath={.spec.clusterIP}']);
    vip = stdout;
    assert.match(vip, /^10\.0\.\d+\.\d+$/);
    const ips = (await pods()).map((p) => `${p.status.podIP}:80`).sort();
    await waitFor(
      'both endpoints in describe',
      async () => {
        const line = /^Endpoints:\s+(.*)$/m.exec((await k(['describe', 'svc', 'nsvc'])).stdout)?.[1] ?? '';
        return JSON.stringify(line.split(',').sort()) === JSON.stringify(ips);
      },
      { timeoutMs: 20_000 },
    );
  });

  test('curl -I VIP:2000 answers 200 OK from both nodes and from a pod; requests reach both pods', async () => {
    for (const node of ['nodea', 'nodeb']) {
      const { stdout } = await waitFor(
        `the VIP from ${node}`,
        () => inNode(node, ['curl', '-sI', '-m', '3', `${vip}:2000`]),
        { timeoutMs: 20_000 },
      );
      assert.match(stdout, /^HTTP\/1\.1 200 OK/);
    }
    const pod = (await pods()).find((p) => p.spec.nodeName === 'nodea');
    const netns = `${NAME}-nodea-${pod.metadata.uid.replace(/-/g, '').slice(0, 12)}`;
    const fromPod = await run(['nsenter', `--net=/run/netns/${netns}`, '--', 'curl', '-sI', '-m', '3', `${vip}:2000`]);
    assert.match(fromPod.stdout, /^HTTP\/1\.1 200 OK/);
    for (let i = 0; i < 30; i++) await inNode('nodea', ['curl', '-s', '-o', '/dev/null', '-m', '3', `${vip}:2000`]);
    const nat = (await inNode('nodea', ['iptables', '-t', 'nat', '-L', '-nv'])).stdout;
    assert.match(
      nat,
      new RegExp(
        `KUBE-SVC-\\w+\\s+6\\s+--\\s+\\*\\s+\\*\\s+0\\.0\\.0\\.0/0\\s+${vip.replace(/\./g, '\\.')}\\s+/\\* default/nsvc cluster IP \\*/ tcp dpt:2000`,
      ),
    );
    const seps = [...nat.matchAll(/^Chain (KUBE-SEP-\w+)[^\n]*\n[^\n]*\n((?:.*\n)*?)\n/gm)].filter((m) =>
      m[2]!.includes('default/nsvc'),
    );
    assert.equal(seps.length, 2, 'two KUBE-SEP chains for nsvc');
    for (const m of seps) {
      const dnat = m[2]!.split('\n').find((l) => l.includes('DNAT'))!;
      assert.ok(Number(dnat.trim().split(/\s+/)[0]) > 0, `counter moved: ${dnat}`);
    }
  });

  test('kubectl logs reads the nginx access log through the API server', async () => {
    const name = (await pods())[0].metadata.name;
    const { stdout } = await k(['logs', name]);
    assert.match(stdout, /"GET \/ HTTP\/1\.1" 200/);
  });

  test('deleting the deployment and service leaves no pod, rule or endpoint', async () => {
    await k(['delete', '-f', 'testdep.yaml', '-f', 'nsvc.yaml']);
    await waitFor('no pods', async () => (await pods()).length === 0, { timeoutMs: 60_000 });
    await waitFor(
      'no rules for nsvc',
      async () => !(await inNode('nodea', ['iptables-save', '-t', 'nat'])).stdout.includes('nsvc'),
      { timeoutMs: 20_000 },
    );
    assert.match((await k(['get', 'endpoints', 'nsvc'])).stderr, /NotFound/);
  });
});
