/**
 * API server behaviour clients rely on, through the REST API of a real `tskube apiserver` (SQLite store):
 * optimistic concurrency, watch resume and 410 Gone, ClusterIP allocation under concurrency and across a kill -9,
 * graceful pod deletion, dry runs, and an informer from @kubernetes/client-node.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { isStatusError } from '../../src/api/status.ts';
import { startApiServer, type TestApiServer } from '../support/apiserver.ts';
import { join } from 'node:path';
import { freePort } from '../support/processes.ts';
import { waitFor } from '../../src/util/wait.ts';
import type { Resource } from '../../src/client/client.ts';

describe('API semantics', () => {
  let server: TestApiServer;
  const services = () => server.client.resource('services') as Resource<any>;
  const pods = () => server.client.resource('pods') as Resource<any>;
  const svc = (name: string) => ({ metadata: { name }, spec: { ports: [{ port: 80 }] } });

  before(async () => {
    server = await startApiServer();
  });
  after(async () => {
    await server?.stop();
  });

  test("a PUT with a stale resourceVersion gets 409 Conflict with upstream's message", async () => {
    const created = await server.client.create(services(), 'default', svc('occ'));
    await server.client.update(services(), { ...created, metadata: { ...created.metadata, labels: { a: '1' } } });
    await assert.rejects(
      server.client.update(services(), { ...created, metadata: { ...created.metadata, labels: { a: '2' } } }),
      (e: unknown) =>
        isStatusError(e, 409) &&
        e.status.message ===
          'Operation cannot be fulfilled on services "occ": the object has been modified; please apply your changes to the latest version and try again',
    );
  });

  test('100 concurrent Service creates get 100 distinct ClusterIPs, and a kill -9 loses none of them', async () => {
    const created = await Promise.all(
      Array.from({ length: 100 }, (_, i) => server.client.create(services(), 'default', svc(`c${i}`))),
    );
    const ips = new Set(created.map((s: any) => s.spec.clusterIP));
    assert.equal(ips.size, 100);
    await server.restart({ hard: true });
    const list = await server.client.list(services(), { namespace: 'default' });
    for (const s of created)
      assert.ok(
        list.items.some((i: any) => i.metadata.name === s.metadata.name && i.spec.clusterIP === s.spec.clusterIP),
      );
    // Allocations are rebuilt from storage: new services never reuse a held IP.
    const more = await Promise.all(
      Array.from({ length: 20 }, (_, i) => server.client.create(services(), 'default', svc(`d${i}`))),
    );
    for (const s of more) assert.ok(!ips.has(s.spec.clusterIP));
  });

  test('a requested ClusterIP is honoured when free, refused with 422 when taken or out of range', async () => {
    const ok = await server.client.create(services(), 'default', {
      metadata: { name: 'fixed' },
      spec: { clusterIP: '10.0.200.200', ports: [{ port: 80 }] },
    });
    assert.equal(ok.spec.clusterIP, '10.0.200.200');
    await assert.rejects(
      server.client.create(services(), 'default', {
        metadata: { name: 'fixed2' },
        spec: { clusterIP: '10.0.200.200', ports: [{ port: 80 }] },
      }),
      (e: unknown) => isStatusError(e, 422) && /already allocated/.test(e.message),
    );
    await assert.rejects(
      server.client.create(services(), 'default', {
        metadata: { name: 'fixed3' },
        spec: { clusterIP: '10.9.0.1', ports: [{ port: 80 }] },
      }),
      (e: unknown) => isStatusError(e, 422) && /not in the valid range/.test(e.message),
    );
    await server.client.delete(services(), 'default', 'fixed');
    const again = await server.client.create(services(), 'default', {
      metadata: { name: 'fixed4' },
      spec: { clusterIP: '10.0.200.200', ports: [{ port: 80 }] },
    });
    assert.equal(again.spec.clusterIP, '10.0.200.200', 'released on delete');
  });

  test('NodePorts come from 30000-32767 and a taken one is refused', async () => {
    const a = await server.client.create(services(), 'default', {
      metadata: { name: 'np1' },
      spec: { type: 'NodePort', ports: [{ port: 80 }] },
    });
    const port = a.spec.ports[0].nodePort;
    assert.ok(port >= 30000 && port <= 32767);
    await assert.rejects(
      server.client.create(services(), 'default', {
        metadata: { name: 'np2' },
        spec: { type: 'NodePort', ports: [{ port: 80, nodePort: port }] },
      }),
      (e: unknown) => isStatusError(e, 422) && /provided port is already allocated/.test(e.message),
    );
  });

  test('watch resumes exactly after a resourceVersion and answers 410 Gone once it is compacted', async () => {
    const first = await server.client.create(services(), 'default', svc('w1'));
    await server.client.create(services(), 'default', svc('w2'));
    const seen: string[] = [];
    const abort = new AbortController();
    const done = server.client.watch(
      services(),
      { namespace: 'default', resourceVersion: first.metadata.resourceVersion, signal: abort.signal },
      (type, o) => seen.push(`${type} ${o.metadata.name}`),
    );
    await server.client.delete(services(), 'default', 'w1');
    await waitFor('two events', () => seen.length >= 2);
    abort.abort();
    await done.catch(() => undefined);
    assert.deepEqual(seen, ['ADDED w2', 'DELETED w1']);
  });

  test('a watch from a compacted resourceVersion gets 410 Gone (Expired)', async () => {
    const small = await startApiServer({ extraFlags: ['--storage-history=20'] });
    try {
      const cm = small.client.resource('configmaps') as Resource<any>;
      const first = await small.client.create(cm, 'default', { metadata: { name: 'h' }, data: { n: '0' } });
      let current = first;
      for (let i = 1; i <= 60; i++) current = await small.client.update(cm, { ...current, data: { n: String(i) } });
      await assert.rejects(
        small.client.watch(
          cm,
          {
            namespace: 'default',
            resourceVersion: first.metadata.resourceVersion,
            signal: new AbortController().signal,
          },
          () => undefined,
        ),
        (e: unknown) => isStatusError(e, 410) && e.reason === 'Expired' && /too old resource version/.test(e.message),
      );
    } finally {
      await small.stop();
    }
  });

  test('pods on a node are deleted gracefully: deletionTimestamp first, gone after a delete with grace 0', async () => {
    const pod = await server.client.create(pods(), 'default', {
      metadata: { name: 'p1' },
      spec: { nodeName: 'nodea', containers: [{ name: 'c', image: 'busybox' }] },
    });
    assert.equal(pod.status.phase, 'Pending');
    const marked = await server.client.delete<any>(pods(), 'default', 'p1');
    assert.ok(marked.metadata.deletionTimestamp);
    assert.equal(marked.metadata.deletionGracePeriodSeconds, 30);
    await server.client.delete(pods(), 'default', 'p1', { gracePeriodSeconds: 0 });
    await assert.rejects(server.client.get(pods(), 'default', 'p1'), (e: unknown) => isStatusError(e, 404));
  });

  test('dryRun=All validates and allocates nothing', async () => {
    const res = await server.client.request<any>('POST', '/api/v1/namespaces/default/services', {
      query: { dryRun: 'All' },
      body: svc('dry'),
    });
    assert.ok(res.spec.clusterIP);
    await assert.rejects(server.client.get(services(), 'default', 'dry'), (e: unknown) => isStatusError(e, 404));
  });

  test('a body past 3 MiB gets 413, malformed JSON 400, an unknown namespace 404', async () => {
    await assert.rejects(
      server.client.request('POST', '/api/v1/namespaces/default/configmaps', {
        body: JSON.stringify({ metadata: { name: 'big' }, data: { x: 'a'.repeat(3.2 * 1024 * 1024) } }),
      }),
      (e: unknown) => isStatusError(e, 413),
    );
    await assert.rejects(
      server.client.request('POST', '/api/v1/namespaces/default/services', { body: '{"metadata": ' }),
      (e: unknown) => isStatusError(e, 400),
    );
    await assert.rejects(
      server.client.create(services(), 'nope', svc('x')),
      (e: unknown) => isStatusError(e, 404) && e.message === 'namespaces "nope" not found',
    );
  });

  test('an informer from @kubernetes/client-node lists and watches Services over HTTPS', async () => {
    const securePort = await freePort();
    // Anonymous over TLS: AlwaysAllow stands in for credentials, this test is about the informer over HTTPS.
    await server.restart({ extraFlags: [`--secure-port=${securePort}`, '--authorization-mode=AlwaysAllow'] });
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [
        { name: 'c', server: `https://127.0.0.1:${securePort}`, caFile: join(server.dir, 'data', 'apiserver.crt') },
      ],
      users: [{ name: 'u' }],
      contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
      currentContext: 'c',
    });
    const api = kc.makeApiClient(k8s.CoreV1Api);
    const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/services', () =>
      api.listNamespacedService({ namespace: 'default' }),
    );
    const added: string[] = [];
    const errors: unknown[] = [];
    informer.on('add', (o) => added.push(o.metadata!.name!));
    informer.on('error', (e) => errors.push(e));
    await informer.start();
    try {
      await waitFor('the initial list', () => added.includes('kubernetes'));
      await server.client.create(services(), 'default', svc('informed'));
      await waitFor('the informer to see the new service', () => added.includes('informed'));
      assert.deepEqual(errors, []);
    } finally {
      await informer.stop();
    }
  });
});
