import assert from 'node:assert/strict';
import { test } from 'node:test';
import { age, humanDuration, selectorText } from './columns.ts';

test('humanDuration prints ages as upstream does', () => {
  const s = 1000;
  const cases: [number, string][] = [
    [-5 * s, '<invalid>'],
    [-0.5 * s, '0s'],
    [45 * s, '45s'],
    [125 * s, '2m5s'],
    [12 * 60 * s, '12m'],
    [(5 * 60 + 3) * 60 * s, '5h3m'],
    [(3 * 24 + 4) * 3600 * s, '3d4h'],
    [45 * 24 * 3600 * s, '45d'],
    [(2 * 365 + 3) * 24 * 3600 * s, '2y3d'],
    [9 * 365 * 24 * 3600 * s, '9y'],
  ];
  for (const [ms, text] of cases) assert.equal(humanDuration(ms), text, String(ms));
});

test('selectorText sorts matchLabels and spells out expressions', () => {
  assert.equal(selectorText(undefined), '<none>');
  assert.equal(selectorText({}), '<none>');
  assert.equal(
    selectorText({
      matchLabels: { b: '2', a: '1' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['prod', 'dev'] },
        { key: 'x', operator: 'Exists' },
        { key: 'y', operator: 'DoesNotExist' },
      ],
    }),
    'a=1,b=2,env in (dev,prod),x,!y',
  );
});

test('age is <unknown> without a creationTimestamp', () => {
  assert.equal(age({}, Date.now()), '<unknown>');
  assert.equal(
    age({ metadata: { creationTimestamp: '2026-01-01T00:00:00Z' } }, Date.parse('2026-01-01T00:01:00Z')),
    '60s',
  );
});
