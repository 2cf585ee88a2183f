import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validate } from './validation.ts';
import { validateMore } from './workload-validation.ts';

test('a Secret whose type is an Object.prototype key is a Secret of an unknown type, not a crash', () => {
  for (const type of ['constructor', 'toString', '__proto__', 'example.com/custom']) {
    const secret = { kind: 'Secret', metadata: { name: 's' }, type, data: { a: 'YQ==' } };
    assert.deepEqual(validateMore('Secret', secret), [], type);
  }
});

test('a TLS Secret needs both keys; an update may not change its type', () => {
  const tls = { kind: 'Secret', metadata: { name: 's' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'YQ==' } };
  assert.deepEqual(
    validateMore('Secret', tls).map((c) => c.field),
    ['data[tls.key]'],
  );
  const opaque = { ...tls, type: 'Opaque' };
  assert.deepEqual(
    validateMore('Secret', opaque, tls).map((c) => c.field),
    ['type'],
  );
});

test('neither a Deployment nor a ReplicaSet may change its selector (apps/v1)', () => {
  const object = (kind: string, app: string) => ({
    kind,
    metadata: { name: 'w' },
    spec: {
      selector: { matchLabels: { app } },
      template: {
        metadata: { labels: { app } },
        spec: { restartPolicy: 'Always', containers: [{ name: 'c', image: 'i' }] },
      },
    },
  });
  assert.deepEqual(validate('ReplicaSet', object('ReplicaSet', 'a'), object('ReplicaSet', 'a')), []);
  assert.deepEqual(
    validate('ReplicaSet', object('ReplicaSet', 'b'), object('ReplicaSet', 'a')).map((c) => c.field),
    ['spec.selector'],
  );
  assert.deepEqual(
    validate('Deployment', object('Deployment', 'b'), object('Deployment', 'a')).map((c) => c.field),
    ['spec.selector'],
  );
});

test('kinds without per-kind checks get the name and label checks only', () => {
  assert.deepEqual(validate('ConfigMap', { metadata: { name: 'ok' } }), []);
  assert.deepEqual(
    validate('ConfigMap', { metadata: { name: 'Not_OK' } }).map((c) => c.field),
    ['metadata.name'],
  );
  assert.deepEqual(validateMore('constructor', { metadata: { name: 'x' } }), []);
});
