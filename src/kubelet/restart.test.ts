import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  apiContainerStatus,
  BACKOFF_INITIAL_MS,
  BACKOFF_MAX_MS,
  type BackOff,
  decideContainer,
  goDuration,
  nextBackOff,
  type Observed,
  podPhase,
  type RestartPolicy,
  shouldRestart,
  terminatedState,
} from './restart.ts';

const pod = { name: 'web', namespace: 'default', uid: 'u-1' };
const decide = (policy: RestartPolicy, observed: Observed, backOff?: BackOff, now = 1_000_000) =>
  decideContainer({ policy, observed, backOff, now, container: 'app', pod });

test('shouldRestart follows upstream: never-run, created and unknown start; exited per restartPolicy', () => {
  for (const policy of ['Always', 'OnFailure', 'Never'] as const) {
    assert.equal(shouldRestart(policy, { state: 'none' }), true);
    assert.equal(shouldRestart(policy, { state: 'created' }), true);
    assert.equal(shouldRestart(policy, { state: 'unknown' }), true);
    assert.equal(shouldRestart(policy, { state: 'running', startedAt: 0 }), false);
  }
  const exited = (exitCode: number): Observed => ({ state: 'exited', exitCode, finishedAt: 0 });
  assert.equal(shouldRestart('Always', exited(0)), true);
  assert.equal(shouldRestart('Always', exited(1)), true);
  assert.equal(shouldRestart('OnFailure', exited(0)), false);
  assert.equal(shouldRestart('OnFailure', exited(137)), true);
  assert.equal(shouldRestart('Never', exited(1)), false);
});

test('a running container is kept, a new one started, a finished one left per restartPolicy', () => {
  assert.deepEqual(decide('Always', { state: 'running', startedAt: 5 }), { action: 'keep' });
  assert.deepEqual(decide('Never', { state: 'none' }), { action: 'start', backOff: undefined });
  assert.deepEqual(decide('Never', { state: 'exited', exitCode: 0, finishedAt: 1 }), { action: 'done' });
  assert.deepEqual(decide('OnFailure', { state: 'exited', exitCode: 0, finishedAt: 1 }), { action: 'done' });
});

test('the first restart is immediate and starts the back-off at 10 s', () => {
  const now = 1_000_000;
  assert.deepEqual(decide('Always', { state: 'exited', exitCode: 1, finishedAt: now - 1 }), {
    action: 'start',
    backOff: { delayMs: BACKOFF_INITIAL_MS, lastUpdateMs: now },
  });
});

test('within the back-off the container waits in CrashLoopBackOff with upstream message; after it, the delay doubles', () => {
  const entry: BackOff = { delayMs: 10_000, lastUpdateMs: 0 };
  const finishedAt = 50_000;
  assert.deepEqual(decide('Always', { state: 'exited', exitCode: 1, finishedAt }, entry, finishedAt + 9_999), {
    action: 'wait',
    delayMs: 10_000,
    message: 'back-off 10s restarting failed container=app pod=web_default(u-1)',
  });
  assert.deepEqual(decide('OnFailure', { state: 'exited', exitCode: 2, finishedAt }, entry, finishedAt + 10_000), {
    action: 'start',
    backOff: { delayMs: 20_000, lastUpdateMs: finishedAt + 10_000 },
  });
});

test('the delay doubles 10 s, 20 s, 40 s ... and stays at 5 min', () => {
  let entry: BackOff | undefined;
  const delays: number[] = [];
  let t = 0;
  for (let i = 0; i < 8; i++) {
    entry = nextBackOff(entry, t, t);
    delays.push(entry.delayMs);
    t += entry.delayMs + 1000;
  }
  assert.deepEqual(delays, [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  assert.equal(Math.max(...delays), BACKOFF_MAX_MS);
});

test('a container that ran more than 10 minutes since its last restart starts again at 10 s', () => {
  const entry: BackOff = { delayMs: 300_000, lastUpdateMs: 0 };
  assert.deepEqual(nextBackOff(entry, 600_000, 600_000), { delayMs: 300_000, lastUpdateMs: 600_000 });
  assert.deepEqual(nextBackOff(entry, 600_001, 600_001), { delayMs: 10_000, lastUpdateMs: 600_001 });
});

test('goDuration writes delays as Go does', () => {
  assert.deepEqual([10_000, 20_000, 80_000, 160_000, 300_000, 3_600_000].map(goDuration), [
    '10s',
    '20s',
    '1m20s',
    '2m40s',
    '5m0s',
    '1h0m0s',
  ]);
});

test('the API status: running is ready and started with an ID; waiting and terminated are neither', () => {
  const terminated = terminatedState({
    exitCode: 1,
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:01:00Z',
  });
  assert.deepEqual(terminated, {
    exitCode: 1,
    reason: 'Error',
    startedAt: '2026-01-01T00:00:00Z',
    finishedAt: '2026-01-01T00:01:00Z',
  });
  assert.equal(terminatedState({ exitCode: 0, finishedAt: 'x' }).reason, 'Completed');
  assert.deepEqual(
    apiContainerStatus({
      name: 'app',
      image: 'busybox',
      containerID: 'tskube://u-1/app',
      state: { running: { startedAt: '2026-01-01T00:02:00Z' } },
      lastState: { terminated },
      restartCount: 2,
      ready: true,
      started: true,
    }),
    {
      name: 'app',
      image: 'busybox',
      imageID: 'tskube-process://busybox',
      containerID: 'tskube://u-1/app',
      ready: true,
      restartCount: 2,
      started: true,
      state: { running: { startedAt: '2026-01-01T00:02:00Z' } },
      lastState: { terminated },
    },
  );
  assert.deepEqual(
    apiContainerStatus({
      name: 'app',
      image: 'busybox',
      containerID: 'tskube://u-1/app',
      state: { waiting: { reason: 'CrashLoopBackOff', message: 'm' } },
      lastState: { terminated },
      restartCount: 2,
      ready: true,
    }),
    {
      name: 'app',
      image: 'busybox',
      imageID: '',
      ready: false,
      restartCount: 2,
      started: false,
      state: { waiting: { reason: 'CrashLoopBackOff', message: 'm' } },
      lastState: { terminated },
    },
  );
});

test('podPhase follows upstream getPhase', () => {
  const running = { name: 'a', image: 'i', imageID: '', ready: true, restartCount: 0, state: { running: {} } };
  const first = { ...running, state: { waiting: { reason: 'ContainerCreating' } } };
  const crashing = {
    ...running,
    state: { waiting: { reason: 'CrashLoopBackOff' } },
    lastState: { terminated: { exitCode: 1 } },
  };
  const ok = { ...running, state: { terminated: { exitCode: 0 } } };
  const failed = { ...running, state: { terminated: { exitCode: 2 } } };
  assert.equal(podPhase('Always', []), 'Pending');
  assert.equal(podPhase('Always', [running, first]), 'Pending', 'a container not started yet');
  assert.equal(podPhase('Always', [running, crashing]), 'Running');
  assert.equal(podPhase('Always', [crashing]), 'Running', 'a crash-looping pod is Running, as upstream');
  assert.equal(podPhase('OnFailure', [ok, crashing]), 'Running', 'restarting after a failure');
  assert.equal(podPhase('OnFailure', [ok, ok]), 'Succeeded');
  assert.equal(podPhase('Never', [ok, ok]), 'Succeeded');
  assert.equal(podPhase('Never', [ok, failed]), 'Failed');
  assert.equal(podPhase('Never', [running, failed]), 'Running');
  assert.equal(podPhase('Always', [running], 2), 'Pending', 'a container without status is unknown');
});
