import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLabels, formatSelector, matches, parseSelector, selectorFromObject } from './labels.ts';

test('parseSelector() reads every operator kubectl sends', () => {
  const s = parseSelector('app=nginx,tier==web,env!=prod,zone in (a, b),track notin (canary),gpu,!legacy');
  assert.deepEqual(
    s.map((r) => r.operator),
    ['Equals', 'Equals', 'NotEquals', 'In', 'NotIn', 'Exists', 'DoesNotExist'],
  );
  assert.equal(matches(s, { app: 'nginx', tier: 'web', env: 'dev', zone: 'b', track: 'stable', gpu: '' }), true);
  assert.equal(
    matches(s, { app: 'nginx', tier: 'web', env: 'dev', zone: 'b', track: 'stable', gpu: '', legacy: 'x' }),
    false,
  );
  assert.equal(matches(s, { app: 'nginx', tier: 'web', env: 'prod', zone: 'b', gpu: '' }), false);
});

test('parseSelector() of the empty string matches everything; bad input throws', () => {
  assert.equal(matches(parseSelector(''), {}), true);
  assert.throws(() => parseSelector('a=b,,c'), SyntaxError);
  assert.throws(() => parseSelector('-bad=x'), SyntaxError);
});

test('selectorFromObject() combines matchLabels and matchExpressions; null selects nothing', () => {
  const s = selectorFromObject({
    matchLabels: { app: 'nginx' },
    matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }],
  })!;
  assert.equal(matches(s, { app: 'nginx', tier: 'web' }), true);
  assert.equal(matches(s, { app: 'nginx' }), false);
  assert.equal(selectorFromObject(null), undefined);
  assert.equal(formatSelector(s), 'app=nginx,tier in (web)');
});

test('formatLabels() sorts keys like kubectl --show-labels', () => {
  assert.equal(
    formatLabels({ 'pod-template-hash': '6dd86d77d', app: 'nginx' }),
    'app=nginx,pod-template-hash=6dd86d77d',
  );
});
