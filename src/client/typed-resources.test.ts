import assert from 'node:assert/strict';
import test from 'node:test';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Stored } from '../api/objects.ts';
import { Informer, RestClient, type ObjectOf } from './client.ts';

// The type checks in this file run under `tsc -p tsconfig.json` (CI's first step): a @ts-expect-error that no longer
// errs fails the build.

test('typed() is resource() with the object type attached', () => {
  const client = new RestClient({ server: 'http://127.0.0.1:1', namespace: 'default' });
  assert.deepEqual(client.typed('pods'), client.resource('pods'));
  assert.equal(client.typed('deployments').group, 'apps');
  assert.equal(client.typed('endpointslices').group, 'discovery.k8s.io');
  assert.equal(client.typed('leases').group, 'coordination.k8s.io');
  assert.equal(client.typed('cronjobs').group, 'batch');
  client.close();
});

test('informers and client calls on a typed resource are typed; a plain ResourceInfo gives Stored<KubeObject>', () => {
  const client = new RestClient({ server: 'http://127.0.0.1:1', namespace: 'default' });
  const pods = new Informer(client, client.typed('pods'), {});
  const pod: Stored<Pod> | undefined = pods.get('default/x');
  // @ts-expect-error: an informer's objects are Pods, not numbers
  const wrong: number | undefined = pods.get('default/x');
  const name: string | undefined = pods.list()[0]?.metadata.name;
  const deployment: Promise<Stored<Deployment>> = client.get(client.typed('deployments'), 'default', 'web');
  deployment.catch(() => undefined);
  // A plain ResourceInfo gives the generic stored object, not any.
  const generic: ObjectOf<ReturnType<RestClient['resource']>> = {
    metadata: { name: 'x', uid: 'u', resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z' },
  };
  // @ts-expect-error: not any: a number is not an API object
  const notAny: ObjectOf<ReturnType<RestClient['resource']>> = 42;
  // @ts-expect-error: a generic object's spec is not known
  const spec = generic.spec;
  assert.equal(pod ?? wrong ?? name, undefined);
  assert.equal(notAny ?? spec, 42);
  client.close();
});
