import assert from 'node:assert/strict';
import test from 'node:test';
import { microTimestamp, timestamp } from './time.ts';

test('timestamp() is metav1.Time: whole seconds, Z', () => {
  assert.equal(timestamp(Date.UTC(2026, 10, 29, 15, 4, 5, 987)), '2026-11-29T15:04:05Z');
  assert.equal(timestamp(new Date('2006-01-02T15:04:05.000Z')), '2006-01-02T15:04:05Z');
  assert.match(timestamp(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const before = Math.floor(Date.now() / 1000) * 1000;
  assert.ok(Date.parse(timestamp()) >= before);
});

test('microTimestamp() is metav1.MicroTime: six fraction digits', () => {
  assert.equal(microTimestamp(Date.UTC(2026, 10, 29, 15, 4, 5, 987)), '2026-11-29T15:04:05.987000Z');
  assert.match(microTimestamp(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
});
