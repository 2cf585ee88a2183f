import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Service } from 'kubernetes-types/core/v1.js';
import { type Decoded, type PerKind, handlerFor, isOneOf } from './per-kind.ts';

test('handlerFor finds the handler of a kind, and nothing for other kinds or inherited keys', () => {
  const handlers: PerKind<{ Service: Decoded<Service> }, string> = {
    Service: (svc, old) => `${svc.spec?.type}/${old?.spec?.type ?? '-'}`,
  };
  assert.equal(
    handlerFor(handlers, 'Service')?.({ kind: 'Service', spec: { type: 'NodePort' } } as Service, undefined),
    'NodePort/-',
  );
  assert.equal(handlerFor(handlers, 'Pod'), undefined);
  assert.equal(handlerFor(handlers, 'constructor'), undefined);
  assert.equal(handlerFor(handlers, 'toString'), undefined);
});

test('isOneOf takes a value of any type and matches only the allowed strings', () => {
  assert.equal(isOneOf(['TCP', 'UDP'], 'TCP'), true);
  for (const value of ['tcp', undefined, null, 6, ['TCP'], { TCP: true }])
    assert.equal(isOneOf(['TCP', 'UDP'], value), false);
});
