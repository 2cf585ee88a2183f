import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Namespace } from 'kubernetes-types/core/v1.js';
import { StatusError } from '../api/status.ts';
import {
  NAMESPACE_NAME_LABEL,
  isTerminating,
  markTerminating,
  namespaceFinished,
  prepareNamespaceForCreate,
  prepareNamespaceForUpdate,
} from './namespace-lifecycle.ts';

const stored = (): Namespace & { metadata: { name: string } } => ({
  metadata: { name: 'team', labels: { [NAMESPACE_NAME_LABEL]: 'team' } },
  spec: { finalizers: ['kubernetes'] },
  status: { phase: 'Active' },
});

test('a new namespace is Active with the kubernetes finalizer and its name label, whatever the client sent', () => {
  const ns: Namespace = {
    metadata: { name: 'team' },
    spec: { finalizers: ['example.com/x'] },
    status: { phase: 'Terminating' },
  };
  prepareNamespaceForCreate(ns);
  assert.deepEqual(ns.spec?.finalizers, ['example.com/x', 'kubernetes']);
  assert.equal(ns.status?.phase, 'Active');
  assert.equal(ns.metadata?.labels?.[NAMESPACE_NAME_LABEL], 'team');
});

test('an update keeps finalizers and status, finalize changes only finalizers, status only status', () => {
  const body: Namespace = { metadata: { name: 'team' }, spec: { finalizers: [] }, status: { phase: 'Terminating' } };
  const updated = prepareNamespaceForUpdate<Namespace>(body, stored(), undefined);
  assert.deepEqual(updated.spec?.finalizers, ['kubernetes']);
  assert.equal(updated.status?.phase, 'Active');
  assert.equal(updated.metadata?.labels?.[NAMESPACE_NAME_LABEL], 'team');
  const finalized = prepareNamespaceForUpdate<Namespace>(body, stored(), 'finalize');
  assert.deepEqual(finalized.spec?.finalizers, []);
  assert.equal(finalized.status?.phase, 'Active');
  const status = prepareNamespaceForUpdate<Namespace>(body, stored(), 'status');
  assert.deepEqual(status.spec?.finalizers, ['kubernetes']);
  assert.equal(status.status?.phase, 'Terminating');
});

test('the first delete marks a namespace Terminating; a second one while finalizers remain is a 409', () => {
  const { object, remove } = markTerminating(stored(), 'Orphan', '2026-01-01T00:00:00Z');
  assert.equal(remove, false);
  assert.equal(object.metadata.deletionTimestamp, '2026-01-01T00:00:00Z');
  assert.deepEqual(object.metadata.finalizers, ['orphan']);
  assert.ok(isTerminating(object));
  assert.equal(namespaceFinished(object), false);
  assert.throws(
    () => markTerminating(object, undefined, '2026-01-01T00:00:01Z'),
    (error: unknown) => error instanceof StatusError && error.code === 409,
  );
  const emptied = { ...object, spec: { finalizers: [] }, metadata: { ...object.metadata, finalizers: [] } };
  assert.ok(namespaceFinished(emptied));
  assert.deepEqual(markTerminating(emptied, undefined, 'later'), { object: emptied, remove: true });
});
