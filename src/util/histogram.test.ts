import assert from 'node:assert/strict';
import test from 'node:test';
import { exponentialBuckets, Histogram } from './histogram.ts';

test('exponentialBuckets() doubles from the start as Prometheus does', () => {
  assert.deepEqual(exponentialBuckets(0.001, 2, 4), [0.001, 0.002, 0.004, 0.008]);
});

test('Histogram renders cumulative buckets, +Inf, sum and count, with and without labels', () => {
  const h = new Histogram([1, 2, 4]);
  for (const v of [0.5, 1, 3, 10]) h.observe(v);
  assert.deepEqual(h.lines('x_seconds', 'a="b"'), [
    'x_seconds_bucket{a="b",le="1"} 2',
    'x_seconds_bucket{a="b",le="2"} 2',
    'x_seconds_bucket{a="b",le="4"} 3',
    'x_seconds_bucket{a="b",le="+Inf"} 4',
    'x_seconds_sum{a="b"} 14.5',
    'x_seconds_count{a="b"} 4',
  ]);
  assert.deepEqual(new Histogram([1]).lines('y'), [
    'y_bucket{le="1"} 0',
    'y_bucket{le="+Inf"} 0',
    'y_sum 0',
    'y_count 0',
  ]);
});
