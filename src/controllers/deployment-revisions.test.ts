import { test } from 'node:test';
import assert from 'node:assert/strict';
import { equalIgnoreHash, maxRevision, newReplicaSetAnnotations } from './deployment-revisions.ts';

const rs = (revision?: string, extra: Record<string, string> = {}) => ({
  metadata: { annotations: { ...(revision ? { 'deployment.kubernetes.io/revision': revision } : {}), ...extra } },
});
const d = {
  metadata: {
    annotations: {
      team: 'a',
      'deployment.kubernetes.io/revision': '9',
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
    },
  },
  spec: { replicas: 3 },
};

test('maxRevision() reads int64 revisions beyond the safe integer range', () => {
  assert.equal((maxRevision([rs('3546343826724305832'), rs('2'), rs()]) + 1n).toString(), '3546343826724305833');
  assert.equal(maxRevision([]), 0n);
});

test("newReplicaSetAnnotations() on create: the revision, the Deployment's own annotations, the replica annotations", () => {
  assert.deepEqual(newReplicaSetAnnotations(d, undefined, '1', 1), {
    team: 'a',
    'deployment.kubernetes.io/revision': '1',
    'deployment.kubernetes.io/desired-replicas': '3',
    'deployment.kubernetes.io/max-replicas': '4',
  });
});

test('newReplicaSetAnnotations() on a rollback raises the revision and keeps the old one in the history', () => {
  const out = newReplicaSetAnnotations(d, rs('1', { 'deployment.kubernetes.io/revision-history': '0' }), '3', 1);
  assert.equal(out['deployment.kubernetes.io/revision'], '3');
  assert.equal(out['deployment.kubernetes.io/revision-history'], '0,1');
});

test('newReplicaSetAnnotations() never lowers a revision', () => {
  assert.equal(newReplicaSetAnnotations(d, rs('5'), '3', 1)['deployment.kubernetes.io/revision'], '5');
});

test('equalIgnoreHash() ignores pod-template-hash, key order and empty fields', () => {
  assert.equal(
    equalIgnoreHash(
      { metadata: { labels: { a: 'b', 'pod-template-hash': 'x' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
      { spec: { containers: [{ image: 'i', name: 'c' }] }, metadata: { labels: { a: 'b' } } },
    ),
    true,
  );
  assert.equal(
    equalIgnoreHash(
      { spec: { containers: [{ name: 'c', image: 'i' }] } },
      { spec: { containers: [{ name: 'c', image: 'j' }] } },
    ),
    false,
  );
});
