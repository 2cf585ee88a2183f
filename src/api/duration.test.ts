import assert from 'node:assert/strict';
import test from 'node:test';
import { formatDuration, formatGoDuration, parseDuration, parseGoDuration } from './duration.ts';

test('parseDuration() reads Go durations into milliseconds', () => {
  assert.equal(parseDuration('15m0s'), 900_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1h0m0s'), 3_600_000);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('0'), 0);
  for (const bad of ['10 s', '', 's', '5', '1d', '1m 30s']) assert.throws(() => parseDuration(bad), RangeError, bad);
});

test('formatDuration() prints what Go time.Duration.String prints', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(30_000), '30s');
  assert.equal(formatDuration(900_000), '15m0s');
  assert.equal(formatDuration(86_400_000), '24h0m0s');
  assert.equal(formatDuration(250), '250ms');
  assert.equal(formatDuration(1500), '1.5s');
});

test('the nanosecond forms keep sub-millisecond units and signs', () => {
  assert.equal(parseGoDuration('-1h2m3.5s'), -3723.5e9);
  assert.equal(parseGoDuration('1.5µs'), 1500);
  assert.equal(formatGoDuration(1500), '1.5µs');
  assert.equal(formatGoDuration(-250e6), '-250ms');
  assert.equal(formatGoDuration(3723.5e9), '1h2m3.5s');
  for (const ns of [1, 999, 1e6, 61e9, 3600e9 + 1e9]) assert.equal(parseGoDuration(formatGoDuration(ns)), ns);
});
