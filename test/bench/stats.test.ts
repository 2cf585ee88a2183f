import assert from 'node:assert/strict';
import test from 'node:test';
import { inFlight, median, percentile } from '../../bench/stats.ts';
import { sleep } from '../../src/util/wait.ts';

test('percentile() is nearest-rank on the sorted values, median is p50', () => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 .. 1
  assert.equal(percentile(values, 50), 51);
  assert.equal(percentile(values, 99), 100);
  assert.equal(percentile(values, 100), 100);
  assert.equal(percentile(values, 0), 1);
  assert.equal(median([3, 1, 2]), 2);
  assert.ok(Number.isNaN(percentile([], 50)));
  assert.deepEqual(values.slice(0, 2), [100, 99], 'the input is left as it was');
});

test('inFlight() runs every index once with at most the given number at a time', async () => {
  const seen: number[] = [];
  let running = 0;
  let most = 0;
  await inFlight(20, 3, async (i) => {
    running++;
    most = Math.max(most, running);
    await sleep(1);
    seen.push(i);
    running--;
  });
  assert.deepEqual(
    seen.sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, i) => i),
  );
  assert.equal(most, 3);
  await assert.rejects(
    inFlight(5, 2, async (i) => {
      if (i === 3) throw new Error('task 3');
    }),
    /task 3/,
  );
});
