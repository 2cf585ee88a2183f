/**
 * Unit tests of the kubelet's pod loop without root: an in-process API server on SQLite, the FakeRuntime for
 * containers and a FakeClock for the loop's resyncs and the restart back-off.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Stored } from '../api/objects.ts';
import type { RunningApiServer } from '../apiserver/apiserver.ts';
import { startInProcessApiServer } from '../apiserver/testing/in-process.ts';
import { RestClient } from '../client/rest-client.ts';
import { silentLogger } from '../log/klog.ts';
import { FakeClock } from '../util/clock.ts';
import { FakeRuntime } from './fake-runtime.ts';
import type { ImageTable } from './image-map.ts';
import { Kubelet } from './kubelet.ts';

const IMAGES: ImageTable = [{ pattern: /^fake$/, program: { entrypoint: ['/bin/app'], cmd: [] } }];
const NODE = 'node-unit';

describe('kubelet pod loop (FakeRuntime, FakeClock)', () => {
  let dir: string;
  let server: RunningApiServer;
  let client: RestClient;
  let clock: FakeClock;
  let runtime: FakeRuntime;
  let kubelet: Kubelet;
  const pods = () => client.typed('pods');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tskube-kubelet-unit-'));
    server = await startInProcessApiServer(join(dir, 'data'));
    client = new RestClient({ server: `http://127.0.0.1:${server.insecurePort}`, namespace: 'default' });
    clock = new FakeClock();
    runtime = new FakeRuntime(clock);
    kubelet = new Kubelet({
      client,
      logger: silentLogger(),
      nodeName: NODE,
      nodeIP: '192.0.2.10',
      port: 10250,
      rootDir: join(dir, 'kubelet'),
      bridge: 'unused0',
      podCidr: '10.88.0.0/16',
      netnsPrefix: 'unit',
      images: IMAGES,
      clock,
      startRuntime: async () => runtime,
    });
    await kubelet.start();
  });

  after(async () => {
    await kubelet?.stop();
    client?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function createPod(name: string, spec: Partial<Pod['spec']> = {}): Promise<Stored<Pod>> {
    return client.create(pods(), 'default', {
      metadata: { name },
      spec: { nodeName: NODE, containers: [{ name: 'app', image: 'fake' }], ...spec },
    });
  }

  /** until polls the pod, moving the fake clock on by resync periods (1 s), until check holds (5 s at most). */
  async function until(name: string, what: string, check: (pod: Stored<Pod>) => boolean): Promise<Stored<Pod>> {
    const deadline = Date.now() + 5000;
    let pod: Stored<Pod> | undefined;
    for (let i = 0; ; i++) {
      pod = await client.get(pods(), 'default', name).catch(() => undefined);
      if (pod && check(pod)) return pod;
      if (Date.now() > deadline) assert.fail(`pod ${name}: ${what}; last status ${JSON.stringify(pod?.status)}`);
      // The loop also syncs on every change it sees: a resync now and then is enough, and keeps the fake time
      // spent waiting for the API server small however slow the machine is.
      await clock.advance(i % 5 === 0 ? 1000 : 0);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** at moves the fake clock to ms after start. */
  const at = (start: number, ms: number) => {
    assert.ok(clock.now() <= start + ms, `the fake clock is already past ${ms} ms after the start`);
    return clock.advance(start + ms - clock.now());
  };

  const app = (pod: Stored<Pod>) => pod.status?.containerStatuses?.[0];

  test('a pod is started in a sandbox and reported Running with its IP', async () => {
    const pod = await createPod('run');
    const running = await until('run', 'Running', (p) => p.status?.phase === 'Running');
    const sandbox = runtime.sandbox(pod.metadata.uid);
    assert.equal(running.status?.podIP, sandbox?.ip);
    assert.equal(sandbox?.netns, `unit-${pod.metadata.uid.replace(/-/g, '').slice(0, 12)}`);
    assert.equal(app(running)?.ready, true);
    assert.equal(app(running)?.restartCount, 0);
    assert.ok(app(running)?.state?.running?.startedAt);
    assert.equal(running.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(runtime.container(pod.metadata.uid, 'app')?.state, 'CONTAINER_RUNNING');
    // kubectl port-forward and exec reach the pod through the runtime.
    const conn = await kubelet.portForward('default', 'run', 8080);
    let echoed = '';
    conn.stdout.on('data', (d: Buffer) => (echoed += d));
    conn.stdin.end('ping');
    assert.equal(await conn.exit, 0);
    assert.equal(echoed, 'ping');
    assert.ok(runtime.calls.includes(`portForward ${sandbox?.id} 8080`));
    await assert.rejects(kubelet.portForward('default', 'nothing', 80), /has no sandbox here/);
    runtime.execHandler = (_c, command) => ({ exitCode: 0, stdout: command.join(' '), stderr: '' });
    const session = await kubelet.exec('default', 'run', 'app', ['echo', 'hi']);
    let out = '';
    session?.stdout.on('data', (d: Buffer) => (out += d));
    assert.equal(await session?.exit, 0);
    assert.equal(out, 'echo hi');
    assert.equal(await kubelet.exec('default', 'run', 'other', ['true']), undefined);
  });

  test('a container that exits is restarted at once, then with back-off 10 s, 20 s (CrashLoopBackOff)', async () => {
    const pod = await createPod('crash');
    const uid = pod.metadata.uid;
    await until('crash', 'Running', (p) => p.status?.phase === 'Running');
    // First exit: restarted at once (upstream's first restart has no delay).
    runtime.exit(uid, 'app', 1);
    let p = await until('crash', 'restarted once', (x) => app(x)?.restartCount === 1 && !!app(x)?.state?.running);
    assert.equal(app(p)?.lastState?.terminated?.exitCode, 1);
    assert.equal(app(p)?.lastState?.terminated?.reason, 'Error');
    // Second exit: 10 s of back-off.
    runtime.exit(uid, 'app', 2);
    const exited = clock.now();
    p = await until('crash', 'CrashLoopBackOff', (x) => app(x)?.state?.waiting?.reason === 'CrashLoopBackOff');
    assert.equal(
      app(p)?.state?.waiting?.message,
      `back-off 10s restarting failed container=app pod=crash_default(${uid})`,
    );
    assert.equal(app(p)?.restartCount, 1);
    assert.equal(app(p)?.lastState?.terminated?.exitCode, 2);
    assert.equal(p.status?.phase, 'Running', 'a crash-looping pod stays Running, as upstream');
    const backOffEvents = async () =>
      (await client.list(client.typed('events'), { namespace: 'default' })).items.filter(
        (e) => e.reason === 'BackOff' && e.involvedObject.uid === uid,
      );
    let backOff = await backOffEvents();
    for (let i = 0; backOff.length === 0 && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 10));
      backOff = await backOffEvents();
    }
    assert.deepEqual(
      backOff.map((e) => [e.type, e.message]),
      [['Warning', `Back-off restarting failed container app in pod crash_default(${uid})`]],
    );
    assert.equal(app(p)?.ready, false);
    await at(exited, 9000);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(runtime.container(uid, 'app')?.state, 'CONTAINER_EXITED', 'still waiting after 9 s');
    await at(exited, 10_000);
    p = await until('crash', 'restarted after 10 s', (x) => app(x)?.restartCount === 2 && !!app(x)?.state?.running);
    // Third exit: the delay doubles.
    runtime.exit(uid, 'app', 3);
    const again = clock.now();
    p = await until('crash', 'back-off 20 s', (x) => /^back-off 20s /.test(app(x)?.state?.waiting?.message ?? ''));
    await at(again, 19_000);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(runtime.container(uid, 'app')?.state, 'CONTAINER_EXITED', 'still waiting after 19 s');
    await until('crash', 'restarted after 20 s', (x) => app(x)?.restartCount === 3 && !!app(x)?.state?.running);
  });

  test('restartPolicy Never leaves an exited container terminated and the pod Failed', async () => {
    const pod = await createPod('never', { restartPolicy: 'Never' });
    await until('never', 'Running', (p) => p.status?.phase === 'Running');
    runtime.exit(pod.metadata.uid, 'app', 3);
    const p = await until('never', 'Failed', (x) => x.status?.phase === 'Failed');
    assert.equal(app(p)?.state?.terminated?.exitCode, 3);
    assert.equal(app(p)?.state?.terminated?.reason, 'Error');
    assert.equal(app(p)?.restartCount, 0);
    await clock.advance(60_000);
    assert.equal(runtime.calls.filter((c) => / app#/.test(c) && c.includes('createContainer')).length > 0, true);
    assert.equal(runtime.container(pod.metadata.uid, 'app')?.metadata.attempt, 0, 'never restarted');
  });

  test('restartPolicy OnFailure restarts a failed container and leaves a succeeded one (pod Succeeded)', async () => {
    const pod = await createPod('onfailure', { restartPolicy: 'OnFailure' });
    const uid = pod.metadata.uid;
    await until('onfailure', 'Running', (p) => p.status?.phase === 'Running');
    runtime.exit(uid, 'app', 1);
    await until('onfailure', 'restarted', (x) => app(x)?.restartCount === 1 && !!app(x)?.state?.running);
    runtime.exit(uid, 'app', 0);
    const p = await until('onfailure', 'Succeeded', (x) => x.status?.phase === 'Succeeded');
    assert.equal(app(p)?.state?.terminated?.reason, 'Completed');
    assert.equal(app(p)?.restartCount, 1);
  });

  test('a failing readiness probe keeps the pod not Ready; passing makes it Ready', async () => {
    let healthy = false;
    runtime.execHandler = (container, command) =>
      container.metadata.name === 'probed' && command[0] === 'check'
        ? { exitCode: healthy ? 0 : 1, stdout: healthy ? '' : 'not yet', stderr: '' }
        : { exitCode: 0, stdout: '', stderr: '' };
    await createPod('ready', {
      containers: [
        { name: 'probed', image: 'fake', readinessProbe: { exec: { command: ['check'] }, periodSeconds: 1 } },
      ],
    });
    let p = await until('ready', 'Running, not ready', (x) => x.status?.phase === 'Running');
    await clock.advance(3000);
    p = await until('ready', 'still not ready', (x) => x.status?.phase === 'Running');
    assert.equal(app(p)?.ready, false);
    assert.equal(p.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
    healthy = true;
    p = await until('ready', 'Ready', (x) => app(x)?.ready === true);
    assert.equal(p.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  });

  test('a container failing its liveness probe three times is killed and restarted', async () => {
    runtime.execHandler = (container, command) =>
      container.metadata.name === 'live' && command[0] === 'alive' && container.metadata.attempt === 0
        ? { exitCode: 1, stdout: 'dead', stderr: '' }
        : { exitCode: 0, stdout: '', stderr: '' };
    const pod = await createPod('liveness', {
      terminationGracePeriodSeconds: 5,
      containers: [{ name: 'live', image: 'fake', livenessProbe: { exec: { command: ['alive'] }, periodSeconds: 1 } }],
    });
    await until('liveness', 'Running', (x) => x.status?.phase === 'Running');
    const p = await until('liveness', 'restarted', (x) => app(x)?.restartCount === 1 && !!app(x)?.state?.running);
    assert.equal(app(p)?.lastState?.terminated?.exitCode, 143, 'stopped by TERM');
    const killed = runtime.calls.find((c) => c.startsWith('stopContainer ') && c.endsWith(' 5'));
    assert.ok(killed, 'stopped with the pod grace period');
    const execs = runtime.calls.filter((c) => c.startsWith('execSync ') && c.endsWith(' alive'));
    assert.ok(execs.length >= 3, `probed at least three times before the kill (${execs.length})`);
    assert.equal(runtime.container(pod.metadata.uid, 'live')?.metadata.attempt, 1);
  });

  test('a deleted pod is stopped with its grace period, then finally deleted', async () => {
    runtime.programs.set('slow', { ignoreTerm: true });
    const pod = await createPod('doomed', {
      terminationGracePeriodSeconds: 30,
      containers: [{ name: 'slow', image: 'fake' }],
    });
    const uid = pod.metadata.uid;
    await until('doomed', 'Running', (p) => p.status?.phase === 'Running');
    const container = runtime.container(uid, 'slow')!;
    await client.delete(pods(), 'default', 'doomed', {});
    await until('doomed', 'marked for deletion', (p) => p.metadata.deletionTimestamp !== undefined);
    const deadline = Date.now() + 5000;
    while (!runtime.calls.includes(`stopContainer ${container.id} 30`)) {
      assert.ok(Date.now() < deadline, 'the kubelet stops the container with the pod grace period');
      await new Promise((r) => setTimeout(r, 10));
    }
    const stopped = clock.now();
    await at(stopped, 29_000);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(runtime.container(uid, 'slow')?.state, 'CONTAINER_RUNNING', 'it ignores TERM for the grace period');
    assert.ok(await client.get(pods(), 'default', 'doomed'), 'the pod stays until its containers stopped');
    await at(stopped, 30_000);
    const gone = Date.now() + 5000;
    while (await client.get(pods(), 'default', 'doomed').catch(() => undefined)) {
      assert.ok(Date.now() < gone, 'the kubelet deletes the pod once it stopped');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(runtime.sandbox(uid), undefined, 'the sandbox is removed');
    const calls = runtime.calls.filter((c) => c.includes(`sandbox-${uid}`) || c.includes(container.id));
    assert.deepEqual(calls.slice(-3), [
      `stopContainer ${container.id} 30`,
      `stopPodSandbox sandbox-${uid}`,
      `removePodSandbox sandbox-${uid}`,
    ]);
  });
});
