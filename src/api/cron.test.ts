import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextAfter, parseCron } from './cron.ts';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

test('nextAfter() finds the next minute of "*/5 * * * *"', () => {
  assert.equal(iso(nextAfter(parseCron('*/5 * * * *'), at('2026-11-29T10:02:30Z'))), '2026-11-29T10:05:00.000Z');
  assert.equal(iso(nextAfter(parseCron('*/5 * * * *'), at('2026-11-29T10:05:00Z'))), '2026-11-29T10:10:00.000Z');
});

test('nextAfter() handles descriptors, names and ranges', () => {
  assert.equal(iso(nextAfter(parseCron('@daily'), at('2026-11-29T10:00:00Z'))), '2026-11-30T00:00:00.000Z');
  assert.equal(
    iso(nextAfter(parseCron('30 9 * jan-mar mon-fri'), at('2026-11-29T10:00:00Z'))),
    '2027-01-01T09:30:00.000Z',
  );
  assert.equal(iso(nextAfter(parseCron('0 0 1 * *'), at('2026-11-29T10:00:00Z'))), '2026-12-01T00:00:00.000Z');
});

test('nextAfter() matches either day field when both are restricted, as cron does', () => {
  // 2026-12-01 is a Tuesday; the 15th comes later, Sunday 6th earlier than the 15th.
  assert.equal(iso(nextAfter(parseCron('0 12 15 * sun'), at('2026-12-01T00:00:00Z'))), '2026-12-06T12:00:00.000Z');
});

test('nextAfter() evaluates the schedule in spec.timeZone', () => {
  // 09:00 in Tokyo is 00:00 UTC.
  assert.equal(
    iso(nextAfter(parseCron('0 9 * * *'), at('2026-11-29T10:00:00Z'), 'Asia/Tokyo')),
    '2026-11-30T00:00:00.000Z',
  );
});

test('nextAfter() gives up on a date that never comes', () => {
  assert.equal(nextAfter(parseCron('0 0 30 2 *'), at('2026-11-29T10:00:00Z')), undefined);
});

test('parseCron() refuses what upstream refuses', () => {
  assert.throws(() => parseCron('* * * *'), /expected exactly 5 fields, found 4/);
  assert.throws(() => parseCron('61 * * * *'), /end of range \(61\) above maximum \(59\)/);
  assert.throws(() => parseCron('TZ=UTC * * * * *'), /cannot use TZ or CRON_TZ in schedule/);
  assert.throws(() => parseCron('@every 5m'), /unrecognized descriptor/);
});
