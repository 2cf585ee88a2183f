/**
 * The namespace, ServiceAccount, ReplicationController, Job and CronJob controllers, run by a real controller
 * manager and scheduler against a real API server. The test plays the kubelet of one node ("nodea"): bound pods
 * go Running, except pods whose command is `exit N`, which finish with that code (Succeeded or Failed).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Stored } from '../../src/api/objects.ts';
import { timestamp } from '../../src/api/time.ts';
import type { Informer, ResourceTypes } from '../../src/client/client.ts';
import { playKubelet, readyNode } from './fake-kubelet.ts';
import { isStatusError } from '../../src/api/status.ts';
import { startApiServer, type TestApiServer } from '../support/apiserver.ts';
import { TSKUBE, startProcess, type StartedProcess } from '../support/processes.ts';
import { waitFor } from '../../src/util/wait.ts';

describe('workload and namespace controllers', () => {
  let server: TestApiServer;
  let cm: StartedProcess;
  let scheduler: StartedProcess;
  let kubelet: Informer<Stored<Pod>>;
  const r = <R extends keyof ResourceTypes>(name: R) => server.client.typed(name);
  const list = async <R extends keyof ResourceTypes>(resource: R, namespace: string, labelSelector?: string) =>
    (await server.client.list(r(resource), { namespace, labelSelector })).items;

  /** runPods runs bound pods: Running, except pods whose command is `exit N`, which finish with that code. */
  function runPods(): Informer<Stored<Pod>> {
    return playKubelet(server.client, (pod) => {
      if (pod.status?.phase && pod.status.phase !== 'Pending') return undefined;
      const now = timestamp();
      const exit = /^exit (\d+)$/.exec((pod.spec?.containers[0]?.command ?? []).join(' '));
      if (!exit) return { phase: 'Running', podIP: '10.244.0.9', image: 'busybox' };
      const exitCode = Number(exit[1]);
      return {
        phase: exitCode === 0 ? 'Succeeded' : 'Failed',
        podIP: '10.244.0.9',
        image: 'busybox',
        state: {
          terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt: now, finishedAt: now },
        },
      };
    });
  }

  before(async () => {
    server = await startApiServer();
    await server.client.create(
      r('nodes'),
      undefined,
      readyNode('nodea', {
        labels: { 'kubernetes.io/hostname': 'nodea' },
        cpu: '4',
        memory: '8Gi',
        address: '192.168.0.10',
      }),
    );
    cm = startProcess([TSKUBE, 'controller-manager', `--kubeconfig=${server.kubeconfig}`, '--leader-elect=false']);
    scheduler = startProcess([TSKUBE, 'scheduler', `--kubeconfig=${server.kubeconfig}`, '--leader-elect=false']);
    kubelet = runPods();
  });

  after(async () => {
    await kubelet?.stop();
    await cm?.stop();
    await scheduler?.stop();
    await server?.stop();
  });

  test('every namespace gets a default ServiceAccount, again after it is deleted', async () => {
    await server.client.create(r('namespaces'), undefined, { metadata: { name: 'team' } });
    await waitFor('the default ServiceAccount', async () =>
      (await list('serviceaccounts', 'team')).some((sa) => sa.metadata.name === 'default'),
    );
    await server.client.delete(r('serviceaccounts'), 'team', 'default');
    await waitFor('it to come back', async () =>
      (await list('serviceaccounts', 'team')).some((sa) => sa.metadata.name === 'default'),
    );
  });

  test('a ReplicationController keeps its replicas and scales down', async () => {
    await server.client.create(r('replicationcontrollers'), 'default', {
      metadata: { name: 'rc' },
      spec: {
        replicas: 3,
        template: { metadata: { labels: { app: 'rc' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      },
    });
    await waitFor(
      '3 running pods',
      async () => (await list('pods', 'default', 'app=rc')).filter((p) => p.status?.phase === 'Running').length === 3,
    );
    await server.client.patch(r('replicationcontrollers'), 'default', 'rc', { spec: { replicas: 1 } }, 'merge', {
      subresource: 'scale',
    });
    await waitFor('1 pod and status 1/1', async () => {
      const rc = await server.client.get(r('replicationcontrollers'), 'default', 'rc');
      return (
        (await list('pods', 'default', 'app=rc')).filter((p) => !p.metadata.deletionTimestamp).length === 1 &&
        rc.status?.replicas === 1 &&
        rc.status?.readyReplicas === 1
      );
    });
  });

  test('a Job runs its completions and reports Complete; the tracking finalizer is released', async () => {
    await server.client.create(r('jobs'), 'default', {
      metadata: { name: 'ok' },
      spec: {
        completions: 3,
        parallelism: 2,
        template: {
          spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['exit', '0'] }] },
        },
      },
    });
    const job = await waitFor('Complete', async () => {
      const j = await server.client.get(r('jobs'), 'default', 'ok');
      return j.status?.conditions?.some((c: any) => c.type === 'Complete' && c.status === 'True') ? j : undefined;
    });
    assert.equal(job.status?.succeeded, 3);
    assert.ok(job.status?.completionTime && job.status.startTime);
    assert.ok(job.status?.conditions?.some((c) => c.type === 'SuccessCriteriaMet'));
    const pods = await list('pods', 'default', 'job-name=ok');
    assert.equal(pods.length, 3);
    await waitFor('finalizers released', async () =>
      (await list('pods', 'default', 'job-name=ok')).every((p) => !(p.metadata.finalizers ?? []).length),
    );
  });

  test('a finished Job with ttlSecondsAfterFinished is deleted with its pods', async () => {
    await server.client.create(r('jobs'), 'default', {
      metadata: { name: 'brief' },
      spec: {
        ttlSecondsAfterFinished: 1,
        template: {
          spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['exit', '0'] }] },
        },
      },
    });
    await waitFor(
      'the Job and its pod to go',
      async () => {
        const jobs = await list('jobs', 'default');
        return (
          !jobs.some((j) => j.metadata.name === 'brief') &&
          (await list('pods', 'default', 'job-name=brief')).length === 0
        );
      },
      { timeoutMs: 20_000 },
    );
  });

  test('a Job whose pods fail stops at backoffLimit and reports Failed', async () => {
    await server.client.create(r('jobs'), 'default', {
      metadata: { name: 'bad' },
      spec: {
        backoffLimit: 1,
        template: {
          spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['exit', '3'] }] },
        },
      },
    });
    const job = await waitFor('Failed', async () => {
      const j = await server.client.get(r('jobs'), 'default', 'bad');
      return j.status?.conditions?.some((c: any) => c.type === 'Failed' && c.status === 'True') ? j : undefined;
    });
    assert.equal(job.status?.failed, 2);
    assert.equal(job.status?.conditions?.find((c) => c.type === 'Failed')?.reason, 'BackoffLimitExceeded');
  });

  test('a CronJob that missed a start time starts a Job for it, owned by the CronJob', async () => {
    const cj = await server.client.create(r('cronjobs'), 'default', {
      metadata: { name: 'tick' },
      spec: {
        schedule: '*/1 * * * *',
        jobTemplate: {
          spec: {
            template: {
              spec: {
                restartPolicy: 'OnFailure',
                containers: [{ name: 'c', image: 'busybox', command: ['exit', '0'] }],
              },
            },
          },
        },
      },
    });
    // Pretend the last run was two minutes ago, so a start time has been missed.
    const past = timestamp(Date.now() - 120_000);
    await server.client.patch(r('cronjobs'), 'default', 'tick', { status: { lastScheduleTime: past } }, 'merge', {
      subresource: 'status',
    });
    const job = await waitFor('a job', async () =>
      (await list('jobs', 'default')).find((j) => j.metadata.ownerReferences?.[0]?.uid === cj.metadata.uid),
    );
    assert.match(job.metadata.name, /^tick-\d{8}$/);
    assert.ok(job.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']);
    await waitFor(
      'lastSuccessfulTime',
      async () => (await server.client.get(r('cronjobs'), 'default', 'tick')).status?.lastSuccessfulTime,
    );
  });

  test('a DaemonSet runs one pod per node it tolerates and rolls a new template out, keeping revisions', async () => {
    await server.client.create(
      r('nodes'),
      undefined,
      readyNode('tainted', {
        cpu: '4',
        memory: '8Gi',
        spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] },
      }),
    );
    await server.client.create(r('daemonsets'), 'default', {
      metadata: { name: 'agent' },
      spec: {
        selector: { matchLabels: { app: 'agent' } },
        template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: 'busybox:1' }] } },
      },
    });
    const running = (image: string) =>
      waitFor(`the ${image} pod on nodea only`, async () => {
        const pods = (await list('pods', 'default', 'app=agent')).filter((p) => !p.metadata.deletionTimestamp);
        const ds = await server.client.get(r('daemonsets'), 'default', 'agent');
        return pods.length === 1 &&
          pods[0]!.spec?.nodeName === 'nodea' &&
          pods[0]!.spec?.containers[0]?.image === image &&
          pods[0].status?.phase === 'Running' &&
          ds.status?.desiredNumberScheduled === 1 &&
          ds.status?.updatedNumberScheduled === 1 &&
          ds.status?.numberReady === 1 &&
          ds.status?.observedGeneration === ds.metadata.generation
          ? pods[0]
          : undefined;
      });
    const first = await running('busybox:1');
    assert.ok(first.metadata.labels?.['controller-revision-hash']);
    await server.client.patch(
      r('daemonsets'),
      'default',
      'agent',
      { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox:2' }] } } } },
      'strategic',
    );
    const second = await running('busybox:2');
    assert.notEqual(
      second.metadata.labels?.['controller-revision-hash'],
      first.metadata.labels?.['controller-revision-hash'],
    );
    const revisions = (await list('controllerrevisions', 'default'))
      .filter((cr) => cr.metadata.name.startsWith('agent-'))
      .map((cr) => cr.revision)
      .sort();
    assert.deepEqual(revisions, [1, 2]);
  });

  test("a ResourceQuota counts usage, refuses what exceeds it with upstream's message, and frees on delete", async () => {
    await server.client.create(r('namespaces'), undefined, { metadata: { name: 'quota' } });
    await server.client.create(r('resourcequotas'), 'quota', {
      metadata: { name: 'q' },
      spec: { hard: { pods: '2', 'requests.cpu': '1' } },
    });
    await waitFor(
      'usage',
      async () => (await server.client.get(r('resourcequotas'), 'quota', 'q')).status?.used?.pods === '0',
    );
    const pod = (name: string, cpu = '250m') => ({
      metadata: { name },
      spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu } } }] },
    });
    await server.client.create(r('pods'), 'quota', pod('a'));
    await assert.rejects(
      server.client.create(r('pods'), 'quota', pod('big', '2')),
      (e: unknown) =>
        isStatusError(e, 403) &&
        e.message ===
          'pods "big" is forbidden: exceeded quota: q, requested: requests.cpu=2, used: requests.cpu=250m, limited: requests.cpu=1',
    );
    await server.client.create(r('pods'), 'quota', pod('b'));
    await assert.rejects(
      server.client.create(r('pods'), 'quota', pod('c')),
      (e: unknown) =>
        isStatusError(e, 403) &&
        e.message === 'pods "c" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2',
    );
    await server.client.delete(r('pods'), 'quota', 'a', { gracePeriodSeconds: 0 });
    await waitFor(
      'usage freed',
      async () => (await server.client.get(r('resourcequotas'), 'quota', 'q')).status?.used?.pods === '1',
    );
    await server.client.create(r('pods'), 'quota', pod('c'));
    const q = await server.client.get(r('resourcequotas'), 'quota', 'q');
    assert.deepEqual(q.status?.hard, { pods: '2', 'requests.cpu': '1' });
    assert.equal(q.status?.used?.['requests.cpu'], '500m');
  });

  test('deleting a namespace deletes its content, then the namespace; new content is refused meanwhile', async () => {
    await server.client.create(r('namespaces'), undefined, { metadata: { name: 'gone' } });
    await server.client.create(r('services'), 'gone', {
      metadata: { name: 'svc' },
      spec: { selector: { app: 'x' }, ports: [{ port: 80 }] },
    });
    await server.client.create(r('replicationcontrollers'), 'gone', {
      metadata: { name: 'rc' },
      spec: {
        replicas: 2,
        template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      },
    });
    await server.client.create(r('secrets'), 'gone', { metadata: { name: 's' }, stringData: { a: 'b' } });
    await waitFor(
      '2 running pods',
      async () => (await list('pods', 'gone')).filter((p) => p.status?.phase === 'Running').length === 2,
    );
    await server.client.delete(r('namespaces'), undefined, 'gone');
    await assert.rejects(server.client.create(r('configmaps'), 'gone', { metadata: { name: 'late' } }), (e: unknown) =>
      isStatusError(e, 403),
    );
    await waitFor(
      'the namespace to go',
      async () =>
        server.client.get(r('namespaces'), undefined, 'gone').then(
          () => false,
          (e) => isStatusError(e, 404),
        ),
      { timeoutMs: 30_000 },
    );
    for (const kind of [
      'pods',
      'services',
      'replicationcontrollers',
      'secrets',
      'serviceaccounts',
      'endpointslices',
    ] as const)
      assert.deepEqual(await list(kind, 'gone'), [], kind);
  });
});
