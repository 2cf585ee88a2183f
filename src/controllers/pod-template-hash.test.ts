import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podTemplateHash } from './pod-template-hash.ts';

test('podTemplateHash() is stable, key-order independent, vowel-free, and changes with the template', () => {
  const a = podTemplateHash({
    metadata: { labels: { app: 'nginx' } },
    spec: { containers: [{ name: 'nginx', image: 'nginx:1.7.9' }] },
  });
  const b = podTemplateHash({
    spec: { containers: [{ image: 'nginx:1.7.9', name: 'nginx' }] },
    metadata: { labels: { app: 'nginx' } },
  });
  assert.equal(a, b);
  assert.match(a, /^[bcdfghjklmnpqrstvwxz2456789]+$/);
  assert.notEqual(
    a,
    podTemplateHash({
      metadata: { labels: { app: 'nginx' } },
      spec: { containers: [{ name: 'nginx', image: 'nginx:1.16.1' }] },
    }),
  );
  assert.notEqual(
    a,
    podTemplateHash(
      { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.7.9' }] } },
      1,
    ),
  );
});
