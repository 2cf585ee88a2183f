/**
 * The resources beyond the lab's, through a real `tskube apiserver` (SQLite, no controllers): namespace lifecycle
 * (Terminating, refusal of new content, /finalize), Secrets (stringData, type checks), Jobs (generated selector),
 * ReplicationControllers (defaults, scale), CronJob schedule validation, and the Tables kubectl prints for them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isStatusError } from '../../src/api/status.ts';
import { startApiServer, type TestApiServer } from '../support/apiserver.ts';
import { kubectl, kubectlAvailable } from '../support/kubectl.ts';
import type { Resource } from '../../src/client/client.ts';

describe('resources', () => {
  let server: TestApiServer;
  let cache: string;
  const r = (name: string) => server.client.resource(name) as Resource<any>;

  before(async () => {
    server = await startApiServer();
    cache = await mkdtemp(join(tmpdir(), 'kubectl-cache-'));
  });
  after(async () => {
    await server?.stop();
    if (cache) await rm(cache, { recursive: true, force: true });
  });

  test('a deleted namespace turns Terminating, refuses new content, and goes once /finalize clears its finalizer', async () => {
    const ns = await server.client.create(r('namespaces'), undefined, { metadata: { name: 'doomed' } });
    assert.deepEqual(ns.spec.finalizers, ['kubernetes']);
    assert.equal(ns.metadata.labels['kubernetes.io/metadata.name'], 'doomed');
    await server.client.create(r('configmaps'), 'doomed', { metadata: { name: 'cm' }, data: { a: '1' } });
    const deleted = await server.client.delete<any>(r('namespaces'), undefined, 'doomed');
    assert.equal(deleted.status.phase, 'Terminating');
    assert.ok(deleted.metadata.deletionTimestamp);
    await assert.rejects(
      server.client.create(r('configmaps'), 'doomed', { metadata: { name: 'late' } }),
      (e: unknown) =>
        isStatusError(e, 403) &&
        e.status.message ===
          'configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated' &&
        e.status.details?.causes?.[0]?.reason === 'NamespaceTerminating',
    );
    await assert.rejects(
      server.client.delete(r('namespaces'), undefined, 'doomed'),
      (e: unknown) =>
        isStatusError(e, 409) && /The system is ensuring all content is removed from this namespace/.test(e.message),
    );
    // Updating what is already there is still allowed.
    await server.client.patch(r('configmaps'), 'doomed', 'cm', { data: { a: '2' } }, 'merge');
    // A plain update cannot drop the finalizer: only /finalize can.
    const current = await server.client.get(r('namespaces'), undefined, 'doomed');
    const updated = await server.client.update(r('namespaces'), { ...current, spec: { finalizers: [] } });
    assert.deepEqual(updated.spec.finalizers, ['kubernetes']);
    await server.client.update(r('namespaces'), { ...updated, spec: { finalizers: [] } }, { subresource: 'finalize' });
    await assert.rejects(server.client.get(r('namespaces'), undefined, 'doomed'), (e: unknown) =>
      isStatusError(e, 404),
    );
  });

  test('content in a namespace that does not exist is refused, and the system namespaces may not be deleted', async () => {
    await assert.rejects(
      server.client.create(r('secrets'), 'nowhere', { metadata: { name: 's' } }),
      (e: unknown) => isStatusError(e, 404) && e.message === 'namespaces "nowhere" not found',
    );
    await assert.rejects(
      server.client.delete(r('namespaces'), undefined, 'kube-system'),
      (e: unknown) =>
        isStatusError(e, 403) &&
        e.message === 'namespaces "kube-system" is forbidden: this namespace may not be deleted',
    );
  });

  test("a Secret stores stringData base64-encoded in data and checks its type's keys", async () => {
    const s = await server.client.create(r('secrets'), 'default', {
      metadata: { name: 'creds' },
      stringData: { user: 'admin' },
      data: { pass: Buffer.from('s3cret').toString('base64') },
    });
    assert.equal(s.type, 'Opaque');
    assert.equal(s.stringData, undefined);
    assert.deepEqual(s.data, { pass: 'czNjcmV0', user: 'YWRtaW4=' });
    await assert.rejects(
      server.client.create(r('secrets'), 'default', {
        metadata: { name: 'tls' },
        type: 'kubernetes.io/tls',
        data: { 'tls.crt': '' },
      }),
      (e: unknown) => isStatusError(e, 422) && e.message === 'Secret "tls" is invalid: data[tls.key]: Required value',
    );
    await assert.rejects(
      server.client.patch(r('secrets'), 'default', 'creds', { type: 'kubernetes.io/basic-auth' }, 'merge'),
      (e: unknown) =>
        isStatusError(e, 422) && /type: Invalid value: "kubernetes.io\/basic-auth": field is immutable/.test(e.message),
    );
  });

  test('a Job gets a selector and pod labels from its uid, and refuses restartPolicy Always', async () => {
    const job = await server.client.create(r('jobs'), 'default', {
      metadata: { name: 'pi' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'busybox' }] } } },
    });
    const uid = job.metadata.uid;
    assert.deepEqual(job.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
    assert.equal(job.spec.template.metadata.labels['job-name'], 'pi');
    assert.equal(job.spec.completions, 1);
    assert.equal(job.spec.backoffLimit, 6);
    await assert.rejects(
      server.client.create(r('jobs'), 'default', {
        metadata: { name: 'bad' },
        spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox' }] } } },
      }),
      (e: unknown) =>
        isStatusError(e, 422) &&
        e.message ===
          'Job.batch "bad" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    );
  });

  test('a CronJob with a bad schedule is refused', async () => {
    await assert.rejects(
      server.client.create(r('cronjobs'), 'default', {
        metadata: { name: 'cj' },
        spec: {
          schedule: '* * *',
          jobTemplate: {
            spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox' }] } } },
          },
        },
      }),
      (e: unknown) => isStatusError(e, 422) && /spec.schedule: Invalid value: "\* \* \*"/.test(e.message),
    );
  });

  test('a ReplicationController takes its selector from the template and scales through /scale', async () => {
    const rc = await server.client.create(r('replicationcontrollers'), 'default', {
      metadata: { name: 'web' },
      spec: {
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      },
    });
    assert.deepEqual(rc.spec.selector, { app: 'web' });
    assert.deepEqual(rc.metadata.labels, { app: 'web' });
    assert.equal(rc.spec.replicas, 1);
    const scale = await server.client.patch(
      r('replicationcontrollers'),
      'default',
      'web',
      { spec: { replicas: 3 } },
      'merge',
      { subresource: 'scale' },
    );
    assert.equal(scale.kind, 'Scale');
    assert.equal(scale.spec.replicas, 3);
    assert.equal(scale.status.selector, 'app=web');
    assert.equal((await server.client.get(r('replicationcontrollers'), 'default', 'web')).spec.replicas, 3);
  });

  test("kubectl prints the new kinds with upstream's columns", {
    skip: !kubectlAvailable('1.33') && 'kubectl 1.33 is not installed',
  }, async () => {
    await server.client.create(r('serviceaccounts'), 'default', { metadata: { name: 'robot' } });
    const run = (args: string[]) => kubectl('1.33', server.kubeconfig, cache, args);
    const secrets = await run(['get', 'secret', 'creds']);
    assert.match(secrets.stdout, /^NAME\s+TYPE\s+DATA\s+AGE\ncreds\s+Opaque\s+2\s+\d+s\n$/);
    const jobs = await run(['get', 'jobs']);
    assert.match(jobs.stdout, /^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE\npi\s+Running\s+0\/1\s+\d+s\n$/);
    const sa = await run(['get', 'sa', 'robot']);
    assert.match(sa.stdout, /^NAME\s+SECRETS\s+AGE\nrobot\s+0\s+\d+s\n$/);
    const rc = await run(['get', 'rc']);
    assert.match(rc.stdout, /^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE\nweb\s+3\s+0\s+0\s+\d+s\n$/);
  });
});
