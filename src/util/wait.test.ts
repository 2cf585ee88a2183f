import assert from 'node:assert/strict';
import test from 'node:test';
import { sleep, waitFor } from './wait.ts';

test('waitFor() resolves with the first truthy value, treating errors as not yet', async () => {
  let calls = 0;
  const value = await waitFor(
    'the third call',
    () => {
      calls++;
      if (calls === 1) throw new Error('not up');
      return calls === 3 ? { ok: calls } : undefined;
    },
    { intervalMs: 1 },
  );
  assert.deepEqual(value, { ok: 3 });
});

test('waitFor() times out with the description and the last error', async () => {
  await assert.rejects(
    waitFor(
      'the impossible',
      async () => {
        throw new Error('connection refused');
      },
      { timeoutMs: 30, intervalMs: 5 },
    ),
    { message: 'Timed out after 0.03s waiting for the impossible: connection refused' },
  );
  await assert.rejects(
    waitFor('never', () => false, { timeoutMs: 20, intervalMs: 5 }),
    { message: 'Timed out after 0.02s waiting for never' },
  );
});

test('waitFor() with failFast ends at the first error', async () => {
  let calls = 0;
  await assert.rejects(
    waitFor(
      'a dead server',
      () => {
        calls++;
        throw new Error('exited');
      },
      { failFast: true, timeoutMs: 60_000 },
    ),
    { message: 'exited' },
  );
  assert.equal(calls, 1);
});

test('sleep() ends early when its signal aborts and never rejects', async () => {
  const controller = new AbortController();
  const started = Date.now();
  const slept = sleep(60_000, controller.signal);
  controller.abort();
  await slept;
  assert.ok(Date.now() - started < 10_000);
  await sleep(0, controller.signal);
  await sleep(1);
});
