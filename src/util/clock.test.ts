import assert from 'node:assert/strict';
import test from 'node:test';
import { FakeClock, realClock } from './clock.ts';

test('FakeClock runs due timers in time order, including timers set by their callbacks, and not the others', async () => {
  const clock = new FakeClock(1000);
  const seen: string[] = [];
  clock.setTimer(() => seen.push(`b@${clock.now()}`), 200);
  clock.setTimer(() => {
    seen.push(`a@${clock.now()}`);
    clock.setTimer(() => seen.push(`c@${clock.now()}`), 50);
  }, 100);
  const cancel = clock.setTimer(() => seen.push('cancelled'), 150);
  cancel();
  clock.setTimer(() => seen.push('late'), 500);
  await clock.advance(300);
  assert.deepEqual(seen, ['a@1100', 'c@1150', 'b@1200']);
  assert.equal(clock.now(), 1300);
  assert.equal(clock.pending, 1);
});

test('FakeClock lets awaited work finish between timers', async () => {
  const clock = new FakeClock();
  const seen: number[] = [];
  clock.setTimer(async () => {
    await Promise.resolve();
    await Promise.resolve();
    seen.push(1);
  }, 10);
  await clock.advance(10);
  assert.deepEqual(seen, [1]);
});

test('realClock fires a timer and cancels one', async () => {
  let fired = 0;
  realClock.setTimer(() => fired++, 1);
  const cancel = realClock.setTimer(() => fired++, 1);
  cancel();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(fired, 1);
  assert.ok(Math.abs(realClock.now() - Date.now()) < 50);
});
