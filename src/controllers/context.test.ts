import assert from 'node:assert/strict';
import test from 'node:test';
import { controllerKey, controllerOf, isPodActive, isPodReady, ownerReference } from './context.ts';

test('ownerReference() points a dependent at its controller; controllerOf() finds it among other owners', () => {
  const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-1', uid: 'u1' } };
  const ref = ownerReference(rs);
  assert.deepEqual(ref, {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    name: 'web-1',
    uid: 'u1',
    controller: true,
    blockOwnerDeletion: true,
  });
  const other = { apiVersion: 'v1', kind: 'ConfigMap', name: 'c', uid: 'u2' };
  assert.equal(controllerOf({ metadata: { ownerReferences: [other, ref] } }), ref);
  assert.equal(controllerOf({ metadata: { ownerReferences: [other] } }), undefined);
  assert.equal(controllerOf({}), undefined);
});

test('isPodReady() reads the Ready condition; isPodActive() leaves out finished and deleted pods', () => {
  assert.equal(isPodReady({ status: { conditions: [{ type: 'Ready', status: 'True' }] } }), true);
  assert.equal(isPodReady({ status: { conditions: [{ type: 'Ready', status: 'False' }] } }), false);
  assert.equal(isPodReady({}), false);
  assert.equal(isPodActive({ status: { phase: 'Running' } }), true);
  assert.equal(isPodActive({ status: { phase: 'Succeeded' } }), false);
  assert.equal(isPodActive({ status: { phase: 'Failed' } }), false);
  assert.equal(
    isPodActive({ metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' }, status: { phase: 'Running' } }),
    false,
  );
});

test("controllerKey() is the controller's namespace/name key when it is of the kind asked for", () => {
  const pod = {
    metadata: {
      namespace: 'default',
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: 'u', controller: true }],
    },
  };
  assert.equal(controllerKey(pod, 'Job'), 'default/pi');
  assert.equal(controllerKey(pod, 'ReplicaSet'), undefined);
  assert.equal(controllerKey({ metadata: { namespace: 'default' } }, 'Job'), undefined);
});
