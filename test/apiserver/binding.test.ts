/**
 * pods/binding through a real `tskube apiserver` (SQLite, and etcd when /usr/bin/etcd is there) and the real REST
 * client: what a bind writes, and upstream's answers when it may not (404, 409 on pods/binding, 409 on a failed
 * uid/resourceVersion precondition, 422 for no node, 400 for a name that is not the URL's), with dryRun honoured.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { isStatusError, type Status } from '../../src/api/status.ts';
import type { TestApiServer } from '../support/apiserver.ts';
import { STORES, type StoreBackend } from './stores.ts';

function bindingTests(store: StoreBackend): void {
  describe(`pods/binding (${store.name})`, { skip: store.skip }, () => {
    let server: TestApiServer;
    let stop: () => Promise<void>;
    const pods = () => server.client.typed('pods');
    const makePod = (name: string, extra: Partial<Pod['spec']> = {}) =>
      server.client.create(pods(), 'default', {
        metadata: { name },
        spec: { containers: [{ name: 'c', image: 'busybox' }], ...extra },
      }) as Promise<Pod>;
    const bind = (pod: string, binding: Record<string, unknown>, query: Record<string, string> = {}) =>
      server.client.request<Status>('POST', `/api/v1/namespaces/default/pods/${pod}/binding`, {
        body: { apiVersion: 'v1', kind: 'Binding', ...binding },
        query,
      });
    /** refusal is the Status body of a refused request. */
    const refusal = async (request: Promise<unknown>): Promise<Status> => {
      try {
        await request;
      } catch (error) {
        if (isStatusError(error)) return error.status;
        throw error;
      }
      assert.fail('the request was not refused');
    };

    before(async () => {
      ({ server, stop } = await store.start());
    });
    after(async () => {
      await stop?.();
    });

    test('a binding sets spec.nodeName, PodScheduled and its annotations, and answers 201 Success', async () => {
      const created = await makePod('b1');
      const status = await server.client.create(
        pods(),
        'default',
        {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: 'b1', uid: created.metadata!.uid, annotations: { 'example.com/by': 'test' } },
          target: { apiVersion: 'v1', kind: 'Node', name: 'node-a' },
        },
        { name: 'b1', subresource: 'binding' },
      );
      assert.equal(status.kind, 'Status');
      assert.equal((status as unknown as Status).status, 'Success');
      const pod = await server.client.get(pods(), 'default', 'b1');
      assert.equal(pod.spec?.nodeName, 'node-a');
      assert.equal(pod.metadata.annotations?.['example.com/by'], 'test');
      const scheduled = pod.status?.conditions?.filter((c) => c.type === 'PodScheduled') ?? [];
      assert.equal(scheduled.length, 1);
      assert.equal(scheduled[0]!.status, 'True');
      assert.ok(Number(pod.metadata.resourceVersion) > Number(created.metadata!.resourceVersion));
    });

    test('a pod already bound gets 409 Conflict on pods/binding with the node it is on', async () => {
      await makePod('b2');
      await bind('b2', { metadata: { name: 'b2' }, target: { name: 'node-a' } });
      const status = await refusal(bind('b2', { metadata: { name: 'b2' }, target: { name: 'node-b' } }));
      assert.equal(status.code, 409);
      assert.equal(status.reason, 'Conflict');
      assert.equal(
        status.message,
        'Operation cannot be fulfilled on pods/binding "b2": pod b2 is already assigned to node "node-a"',
      );
      assert.deepEqual(status.details, { name: 'b2', kind: 'pods/binding' });
      assert.equal((await server.client.get(pods(), 'default', 'b2')).spec?.nodeName, 'node-a');
    });

    test('a missing pod is 404 NotFound', async () => {
      const status = await refusal(bind('nope', { metadata: { name: 'nope' }, target: { name: 'node-a' } }));
      assert.equal(status.code, 404);
      assert.equal(status.reason, 'NotFound');
      assert.equal(status.message, 'pods "nope" not found');
    });

    test('no node name is 422 Invalid on target.name; a target kind other than Node is 422 too', async () => {
      await makePod('b3');
      const empty = await refusal(bind('b3', { metadata: { name: 'b3' }, target: { name: '' } }));
      assert.equal(empty.code, 422);
      assert.equal(empty.reason, 'Invalid');
      assert.equal(empty.message, 'Binding "b3" is invalid: target.name: Required value');
      assert.deepEqual(
        empty.details?.causes?.map((c) => c.field),
        ['target.name'],
      );
      const missing = await refusal(bind('b3', { metadata: { name: 'b3' } }));
      assert.equal(missing.code, 422);
      const pod = await refusal(bind('b3', { metadata: { name: 'b3' }, target: { kind: 'Pod', name: 'x' } }));
      assert.equal(pod.code, 422);
      assert.equal(
        pod.message,
        'Binding "b3" is invalid: target.kind: Unsupported value: "Pod": supported values: "Node", "<empty>"',
      );
      assert.equal((await server.client.get(pods(), 'default', 'b3')).spec?.nodeName, undefined);
    });

    test('a binding whose name is not the pod in the URL is 400 BadRequest', async () => {
      await makePod('b4');
      const other = await refusal(bind('b4', { metadata: { name: 'b5' }, target: { name: 'node-a' } }));
      assert.equal(other.code, 400);
      assert.equal(other.message, 'name in URL does not match name in Binding object');
      const unnamed = await refusal(bind('b4', { target: { name: 'node-a' } }));
      assert.equal(unnamed.code, 400);
      const typed = await refusal(bind('b4', { metadata: { name: 'b4' }, target: 'node-a' }));
      assert.equal(typed.code, 400);
      assert.equal(typed.reason, 'BadRequest');
    });

    test("a uid or resourceVersion that is not the pod's is 409 Conflict on pods (upstream's precondition)", async () => {
      const created = await makePod('b6');
      const uid = await refusal(bind('b6', { metadata: { name: 'b6', uid: 'not-the-uid' }, target: { name: 'n' } }));
      assert.equal(uid.code, 409);
      assert.equal(uid.reason, 'Conflict');
      assert.equal(
        uid.message,
        `Operation cannot be fulfilled on pods "b6": StorageError: invalid object, Code: 4, Key: /registry/pods/default/b6, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: not-the-uid, UID in object meta: ${created.metadata!.uid}`,
      );
      const rv = await refusal(bind('b6', { metadata: { name: 'b6', resourceVersion: '1' }, target: { name: 'n' } }));
      assert.equal(rv.code, 409);
      assert.match(rv.message ?? '', /Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in/);
      await bind('b6', {
        metadata: { name: 'b6', uid: created.metadata!.uid, resourceVersion: created.metadata!.resourceVersion },
        target: { name: 'n' },
      });
      assert.equal((await server.client.get(pods(), 'default', 'b6')).spec?.nodeName, 'n');
    });

    test('a pod being deleted or with scheduling gates is 409 Conflict', async () => {
      await makePod('b7', { schedulingGates: [{ name: 'example.com/wait' }] });
      const gated = await refusal(bind('b7', { metadata: { name: 'b7' }, target: { name: 'n' } }));
      assert.equal(gated.code, 409);
      assert.equal(
        gated.message,
        'Operation cannot be fulfilled on pods/binding "b7": pod b7 has non-empty .spec.schedulingGates',
      );
      await server.client.create(pods(), 'default', {
        metadata: { name: 'b8', finalizers: ['example.com/hold'] },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      });
      await server.client.delete(pods(), 'default', 'b8');
      const deleting = await refusal(bind('b8', { metadata: { name: 'b8' }, target: { name: 'n' } }));
      assert.equal(deleting.code, 409);
      assert.equal(
        deleting.message,
        'Operation cannot be fulfilled on pods/binding "b8": pod b8 is being deleted, cannot be assigned to a host',
      );
      await server.client.patch(pods(), 'default', 'b8', { metadata: { finalizers: null } }, 'merge');
    });

    test('dryRun=All answers Success and changes nothing', async () => {
      const created = await makePod('b9');
      const status = await bind('b9', { metadata: { name: 'b9' }, target: { name: 'n' } }, { dryRun: 'All' });
      assert.equal(status.status, 'Success');
      const pod = await server.client.get(pods(), 'default', 'b9');
      assert.equal(pod.spec?.nodeName, undefined);
      assert.equal(pod.metadata.resourceVersion, created.metadata!.resourceVersion);
    });
  });
}

for (const store of STORES) bindingTests(store);
