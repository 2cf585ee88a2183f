import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyncBudget } from './sync-budget.ts';

test('SyncBudget lets two syncs run back to back, then one per minSyncPeriod', () => {
  const budget = new SyncBudget(1000);
  assert.equal(budget.waitMs(0), 0);
  budget.take(0);
  assert.equal(budget.waitMs(20), 0, 'the EndpointSlice right after its Service is applied at once');
  budget.take(20);
  // The bucket refills continuously: 0.04 of a token at 40 ms, one whole token at 1000 ms.
  assert.equal(budget.waitMs(40), 960, 'a third change waits for the bucket to refill');
  assert.equal(budget.waitMs(1000), 0);
  budget.take(1000);
  assert.equal(budget.waitMs(1010), 990);
});

test('SyncBudget refills to its burst, no more, after a quiet spell', () => {
  const budget = new SyncBudget(1000);
  budget.take(0);
  budget.take(0);
  assert.equal(budget.waitMs(60_000), 0);
  budget.take(60_000);
  budget.take(60_000);
  assert.equal(budget.waitMs(60_000), 1000);
});

test('SyncBudget with minSyncPeriod 0 never waits', () => {
  const budget = new SyncBudget(0);
  for (let i = 0; i < 5; i++) budget.take(i);
  assert.equal(budget.waitMs(5), 0);
});
