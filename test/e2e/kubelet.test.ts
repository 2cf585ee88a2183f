/**
 * The kubelet and flatnet on the real kernel, through a `tskube up` cluster ("tkk", LAN 192.168.230.0/24): pods
 * get IPs from their node's subnet, reach each other across nodes by pod IP, liveness failures restart a container,
 * readiness failures keep a pod out of Ready, deleting pods reclaims their namespaces, and a kubelet kill -9 and
 * restart keeps pods running with the same processes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RestClient } from '../../src/client/rest-client.ts';
import { run } from '../../src/sys/run.ts';
import { kubectl, kubectlAvailable } from '../support/kubectl.ts';
import { NOT_ROOT } from '../support/netns.ts';
import { TSKUBE } from '../support/processes.ts';
import { sleep, waitFor } from '../../src/util/wait.ts';
import { type TestCluster, upCluster } from '../support/cluster.ts';
import type { Resource } from '../../src/client/client.ts';

const NAME = 'tkk';

describe('kubelet and flatnet', {
  skip: NOT_ROOT || (!kubectlAvailable('1.33') && 'kubectl 1.33 is not installed'),
}, () => {
  let cluster: TestCluster | undefined;
  let stateDir: string;
  let cache: string;
  let client: RestClient;
  const flags = () => [`--name=${NAME}`, `--state-dir=${stateDir}`];
  const pods = () => client.resource('pods') as Resource<any>;
  const pod = (name: string, node: string, container: Record<string, unknown>) =>
    client.create(pods(), 'default', {
      metadata: { name },
      spec: { nodeName: node, terminationGracePeriodSeconds: 2, containers: [{ name: 'c', ...container }] },
    });
  const get = (name: string) => client.get(pods(), 'default', name);
  const netnsOf = (p: any) => `${NAME}-${p.spec.nodeName}-${p.metadata.uid.replace(/-/g, '').slice(0, 12)}`;

  before(async () => {
    cluster = await upCluster({ name: NAME, lanCidr: '192.168.230.0/24', upTimeoutMs: 180_000 });
    ({ stateDir, cache, client } = cluster);
  });

  after(async () => {
    await cluster?.down();
  });

  test('a busybox pod on nodea fetches the nginx page from a pod on nodeb by pod IP', async () => {
    await pod('web', 'nodeb', { image: 'nginx:1.7.9' });
    await pod('client', 'nodea', { image: 'busybox', command: ['sh', '-c', 'sleep 3600'] });
    const web = await waitFor(
      'web running',
      async () => {
        const p = await get('web');
        return p.status?.phase === 'Running' && p.status.podIP ? p : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const cl = await waitFor(
      'client running',
      async () => {
        const p = await get('client');
        return p.status?.phase === 'Running' && p.status.podIP ? p : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const nodes = (await client.list(client.resource('nodes') as Resource<any>)).items as any[];
    const cidrOf = (n: string) =>
      nodes
        .find((x) => x.metadata.name === n)
        .spec.podCIDR.split('.')
        .slice(0, 2)
        .join('.');
    assert.ok(
      web.status.podIP.startsWith(cidrOf('nodeb')) && cl.status.podIP.startsWith(cidrOf('nodea')),
      "IPs from each node's subnet",
    );
    const page = await waitFor(
      'the page across nodes',
      async () =>
        (
          await run(
            [
              'nsenter',
              `--net=/run/netns/${netnsOf(cl)}`,
              '--',
              '/bin/busybox',
              'wget',
              '-qO-',
              `http://${web.status.podIP}/`,
            ],
            { timeoutMs: 3000 },
          ).catch(() => ({ stdout: '' }))
        ).stdout || undefined,
      { timeoutMs: 20_000 },
    );
    assert.match(page, /Welcome to nginx!/);
  });

  test('a container whose liveness probe fails is restarted', async () => {
    await pod('live', 'nodea', {
      image: 'busybox',
      command: ['sh', '-c', 'sleep 3600'],
      livenessProbe: { exec: { command: ['/bin/busybox', 'false'] }, periodSeconds: 1, failureThreshold: 1 },
    });
    await waitFor(
      'a restart',
      async () => ((await get('live')).status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1,
      { timeoutMs: 40_000 },
    );
  });

  test('a failing startup probe restarts the container and keeps liveness from running', async () => {
    await pod('slow', 'nodea', {
      image: 'busybox',
      command: ['sh', '-c', 'sleep 3600'],
      startupProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1, failureThreshold: 2 },
      livenessProbe: { exec: { command: ['/bin/busybox', 'true'] }, periodSeconds: 1 },
    });
    await waitFor(
      'a restart from the startup probe',
      async () => ((await get('slow')).status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1,
      { timeoutMs: 40_000 },
    );
    const p = await get('slow');
    assert.equal(p.status.containerStatuses[0].started, false);
    assert.equal(p.status.conditions.find((c: any) => c.type === 'Ready').status, 'False');
  });

  test('a pod whose readiness probe fails is Running but not Ready', async () => {
    await pod('unready', 'nodea', {
      image: 'busybox',
      command: ['sh', '-c', 'sleep 3600'],
      readinessProbe: { tcpSocket: { port: 9999 }, periodSeconds: 1 },
    });
    await waitFor('Running', async () => (await get('unready')).status?.phase === 'Running', { timeoutMs: 30_000 });
    await sleep(2500);
    const p = await get('unready');
    assert.equal(p.status.conditions.find((c: any) => c.type === 'Ready').status, 'False');
    const { stdout } = await kubectl('1.33', join(stateDir, 'admin.conf'), cache, ['get', 'pod', 'unready']);
    assert.match(stdout, /unready\s+0\/1\s+Running/);
  });

  test("kubectl logs shows a container's output", async () => {
    await pod('talker', 'nodeb', { image: 'busybox', command: ['sh', '-c', 'echo hello from tskube; sleep 3600'] });
    await waitFor('Running', async () => (await get('talker')).status?.phase === 'Running', { timeoutMs: 30_000 });
    const logs = await waitFor(
      'the log line',
      async () => (await kubectl('1.33', join(stateDir, 'admin.conf'), cache, ['logs', 'talker'])).stdout || undefined,
    );
    assert.equal(logs, 'hello from tskube\n');
  });

  test('kubectl exec runs commands in the container, with its exit code and stdin', async () => {
    const conf = join(stateDir, 'admin.conf');
    const ps = await kubectl('1.33', conf, cache, ['exec', 'talker', '--', 'sh', '-c', 'ps -o pid,comm | head -2']);
    assert.equal(ps.code, 0, ps.stderr);
    assert.match(ps.stdout, /^\s*PID\s+COMMAND\n\s*1\s+bwrap$/m, "its own PID namespace, the sandbox's init as PID 1");
    const host = await kubectl('1.33', conf, cache, [
      'exec',
      'talker',
      '--',
      'sh',
      '-c',
      'hostname; grep talker /etc/hosts; head -1 /etc/resolv.conf',
    ]);
    assert.match(
      host.stdout,
      /^talker\n\d+\.\d+\.\d+\.\d+\ttalker\nsearch default\.svc\.cluster\.local svc\.cluster\.local cluster\.local( \S+)*\n$/,
      'its own hostname, /etc/hosts and resolv.conf',
    );
    const failed = await kubectl('1.33', conf, cache, ['exec', 'talker', '--', 'sh', '-c', 'exit 3']);
    assert.equal(failed.code, 3);
    assert.match(failed.stderr, /command terminated with exit code 3/);
    const piped = await kubectl('1.33', conf, cache, ['exec', '-i', 'talker', '--', 'cat'], {
      input: 'through stdin\n',
    });
    assert.equal(piped.stdout, 'through stdin\n');
  });

  test('a container runs in a cgroup carrying its memory and CPU limits', async () => {
    await pod('limited', 'nodeb', {
      image: 'busybox',
      command: ['sh', '-c', 'sleep 3600'],
      resources: { limits: { memory: '64Mi', cpu: '500m' } },
    });
    const p = await waitFor(
      'Running',
      async () => {
        const x = await get('limited');
        return x.status?.phase === 'Running' ? x : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const state = JSON.parse(
      await readFile(
        join(stateDir, 'nodes', 'nodeb', 'kubelet', 'containers', p.metadata.uid, 'c', 'state.json'),
        'utf8',
      ),
    );
    const init = (await readFile(`/proc/${state.pid}/task/${state.pid}/children`, 'utf8')).trim().split(' ')[0];
    const cgroups = await readFile(`/proc/${init}/cgroup`, 'utf8');
    const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
    if (v2) {
      const path = /^0::(.*)$/m.exec(cgroups)![1]!;
      assert.equal((await readFile(`/sys/fs/cgroup${path}/memory.max`, 'utf8')).trim(), String(64 * 2 ** 20));
      assert.equal((await readFile(`/sys/fs/cgroup${path}/cpu.max`, 'utf8')).trim(), '50000 100000');
    } else {
      const memory = /^\d+:memory:(.*)$/m.exec(cgroups)![1]!;
      const cpu = /^\d+:cpu(?:,cpuacct)?:(.*)$/m.exec(cgroups)![1]!;
      assert.match(memory, new RegExp(`tskube/${p.metadata.uid}/c$`));
      assert.equal(
        (await readFile(`/sys/fs/cgroup/memory${memory}/memory.limit_in_bytes`, 'utf8')).trim(),
        String(64 * 2 ** 20),
      );
      assert.equal((await readFile(`/sys/fs/cgroup/cpu${cpu}/cpu.cfs_quota_us`, 'utf8')).trim(), '50000');
    }
    await client.delete(pods(), 'default', 'limited');
  });

  test('a kubelet kill -9 and restart keeps pods running with the same processes', async () => {
    const before = await get('client');
    const records = JSON.parse(await readFile(join(stateDir, 'processes.json'), 'utf8'));
    const kubelet = records.find((r: any) => r.component === 'kubelet' && r.node === 'nodea');
    const statePath = join(stateDir, 'nodes', 'nodea', 'kubelet', 'containers', before.metadata.uid, 'c', 'state.json');
    const pid = JSON.parse(await readFile(statePath, 'utf8')).pid;
    process.kill(kubelet.pid, 'SIGKILL');
    // The supervisor of `tskube up` starts it again by itself; --repair below then finds nothing to do.
    await waitFor('the supervisor to restart the kubelet', async () => {
      const now = JSON.parse(await readFile(join(stateDir, 'processes.json'), 'utf8')).find(
        (r: any) => r.component === 'kubelet' && r.node === kubelet.node,
      );
      return now.pid > 0 && now.pid !== kubelet.pid && (now.restarts ?? 0) > 0;
    });
    await run([TSKUBE, 'up', '--repair', ...flags()], { timeoutMs: 60_000 });
    await sleep(3000);
    const after = await get('client');
    assert.equal(JSON.parse(await readFile(statePath, 'utf8')).pid, pid, 'same container process');
    process.kill(pid, 0);
    assert.equal(after.status.containerStatuses[0].restartCount, before.status.containerStatuses[0].restartCount);
  });

  test('deleting pods reclaims their namespaces and processes', async () => {
    const p = await get('client');
    const pid = JSON.parse(
      await readFile(
        join(stateDir, 'nodes', 'nodea', 'kubelet', 'containers', p.metadata.uid, 'c', 'state.json'),
        'utf8',
      ),
    ).pid;
    const ns = netnsOf(p);
    assert.ok(existsSync(`/run/netns/${ns}`));
    await client.delete(pods(), 'default', 'client');
    await waitFor(
      'the pod object to go',
      async () =>
        get('client').then(
          () => false,
          () => true,
        ),
      { timeoutMs: 30_000 },
    );
    assert.equal(existsSync(`/run/netns/${ns}`), false, 'namespace removed');
    // Gone, or a zombie waiting for its new parent (the kubelet that started it was restarted above).
    const stat = existsSync(`/proc/${pid}/stat`)
      ? ((await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1] ?? '')
      : 'gone';
    assert.ok(stat === 'gone' || stat.startsWith('Z'), `container process state: ${stat.slice(0, 1)}`);
  });

  test('a force-deleted running pod and a deleted completed pod leave no namespace or process behind', async () => {
    await pod('forced', 'nodeb', { image: 'busybox', command: ['sh', '-c', 'sleep 3600'] });
    await client.create(pods(), 'default', {
      metadata: { name: 'done' },
      spec: {
        nodeName: 'nodeb',
        restartPolicy: 'Never',
        containers: [{ name: 'c', image: 'busybox', command: ['true'] }],
      },
    });
    const forced = await waitFor(
      'forced running',
      async () => {
        const p = await get('forced');
        return p.status?.phase === 'Running' ? p : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const done = await waitFor(
      'done to complete',
      async () => {
        const p = await get('done');
        return p.status?.phase === 'Succeeded' ? p : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const pid = JSON.parse(
      await readFile(
        join(stateDir, 'nodes', 'nodeb', 'kubelet', 'containers', forced.metadata.uid, 'c', 'state.json'),
        'utf8',
      ),
    ).pid;
    assert.ok(existsSync(`/run/netns/${netnsOf(forced)}`) && existsSync(`/run/netns/${netnsOf(done)}`));
    await client.delete(pods(), 'default', 'forced', { gracePeriodSeconds: 0 });
    await client.delete(pods(), 'default', 'done');
    await waitFor(
      'both namespaces to go',
      async () => !existsSync(`/run/netns/${netnsOf(forced)}`) && !existsSync(`/run/netns/${netnsOf(done)}`),
      { timeoutMs: 30_000 },
    );
    await waitFor(
      "the force-deleted pod's process to end",
      async () =>
        !existsSync(`/proc/${pid}/stat`) ||
        (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.startsWith('Z'),
      { timeoutMs: 30_000 },
    );
  });
});
