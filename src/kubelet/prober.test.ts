import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Probe } from 'kubernetes-types/core/v1.js';
import { freshState, recordOutcome, type ProbeType, type WorkerState } from './prober.ts';

function feed(type: ProbeType, probe: Probe, outcomes: boolean[]): string[] {
  let state: WorkerState = freshState(type, 'run-1');
  return outcomes.map((ok) => (state = recordOutcome(state, ok, probe, type)).result);
}

test('recordOutcome() keeps a readiness probe not ready until its first success', () => {
  assert.deepEqual(feed('readiness', {}, [false, false, false, false, true]), [
    'failure',
    'failure',
    'failure',
    'failure',
    'success',
  ]);
});

test('recordOutcome() needs successThreshold successes in a row', () => {
  assert.deepEqual(feed('readiness', { successThreshold: 3 }, [true, true, false, true, true, true]), [
    'failure',
    'failure',
    'failure',
    'failure',
    'failure',
    'success',
  ]);
});

test('recordOutcome() turns a ready container unready only after failureThreshold failures in a row', () => {
  assert.deepEqual(feed('readiness', { failureThreshold: 2 }, [true, false, true, false, false]), [
    'success',
    'success',
    'success',
    'success',
    'failure',
  ]);
});

test('recordOutcome() reports a liveness failure after failureThreshold (default 3) and holds until a restart', () => {
  let state = freshState('liveness', 'run-1');
  const results: string[] = [];
  for (const ok of [false, false, false]) results.push((state = recordOutcome(state, ok, {}, 'liveness')).result);
  assert.deepEqual(results, ['success', 'success', 'failure']);
  assert.equal(state.onHold, true);
});

test('recordOutcome() starts a container after one startup success; unknown before', () => {
  assert.deepEqual(feed('startup', { failureThreshold: 5 }, [false, false, true]), ['unknown', 'unknown', 'success']);
});
