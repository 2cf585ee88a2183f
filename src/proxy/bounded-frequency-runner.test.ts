import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeClock } from '../util/clock.ts';
import { BoundedFrequencyRunner, type RunOutcome } from './bounded-frequency-runner.ts';

/** runner over a FakeClock, recording when each run started (ms since the start) each taking takesMs. */
function setup(
  options: { outcomes?: RunOutcome[]; takesMs?: number; minIntervalMs?: number; maxIntervalMs?: number } = {},
) {
  const clock = new FakeClock(0);
  const starts: number[] = [];
  const outcomes = [...(options.outcomes ?? [])];
  const runner = new BoundedFrequencyRunner(
    async () => {
      starts.push(clock.now());
      if (options.takesMs) await new Promise<void>((resolve) => clock.setTimer(resolve, options.takesMs!));
      return outcomes.shift() ?? 'done';
    },
    { clock, minIntervalMs: options.minIntervalMs ?? 1000, maxIntervalMs: options.maxIntervalMs ?? 30_000 },
  );
  return { clock, runner, starts };
}

test('BoundedFrequencyRunner runs two back to back, then one per minInterval', async () => {
  const { clock, runner, starts } = setup();
  runner.run();
  await clock.advance(10);
  runner.run();
  await clock.advance(10);
  runner.run();
  runner.run();
  runner.run();
  await clock.advance(5000);
  assert.deepEqual(starts, [0, 10, 1000], 'the third and later asks coalesce into one run when a token is back');
  runner.stop();
});

test('BoundedFrequencyRunner: asks during a run coalesce into exactly one more run after it', async () => {
  const { clock, runner, starts } = setup({ takesMs: 300, minIntervalMs: 0 });
  runner.run();
  await clock.advance(100);
  for (let i = 0; i < 5; i++) runner.run();
  await clock.advance(2000);
  assert.deepEqual(starts, [0, 300]);
  runner.stop();
});

test('BoundedFrequencyRunner: runs that change nothing spend no budget', async () => {
  const { clock, runner, starts } = setup({ outcomes: ['noop', 'noop', 'noop', 'done', 'done', 'done'] });
  for (let i = 0; i < 6; i++) {
    runner.run();
    await clock.advance(1);
  }
  await clock.advance(2000);
  assert.deepEqual(starts.slice(0, 5), [0, 1, 2, 3, 4], 'three no-op runs, then the burst of two');
  assert.ok(starts.length === 6 && starts[5]! >= 1003 && starts[5]! <= 1004, `then a minInterval later: ${starts}`);
  runner.stop();
});

test('BoundedFrequencyRunner runs every maxInterval after the last run, and retries soon after a failure', async () => {
  const { clock, runner, starts } = setup({ outcomes: ['done', 'done', 'failed', 'done'], maxIntervalMs: 30_000 });
  runner.start();
  await clock.advance(10_000);
  runner.run();
  await clock.advance(29_999);
  assert.deepEqual(starts, [0, 10_000], 'the periodic run counts from the last run');
  await clock.advance(1);
  assert.deepEqual(starts, [0, 10_000, 40_000]);
  await clock.advance(1000);
  assert.deepEqual(starts, [0, 10_000, 40_000, 41_000], 'a failed run is retried a second later');
  runner.stop();
  await clock.advance(120_000);
  assert.equal(starts.length, 4, 'nothing runs after stop');
  assert.equal(clock.pending, 0);
});

test('BoundedFrequencyRunner.runAfter asks for a run later, once for several asks', async () => {
  const { clock, runner, starts } = setup({ minIntervalMs: 0 });
  runner.runAfter(1010);
  runner.runAfter(2000);
  await clock.advance(1009);
  assert.deepEqual(starts, []);
  await clock.advance(5000);
  assert.deepEqual(starts, [1010]);
  runner.stop();
});
