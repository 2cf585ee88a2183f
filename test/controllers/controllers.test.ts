/**
 * The controller manager and scheduler as separate processes against a real API server. The test plays two
 * kubelets ("nodea", "nodeb"): it registers Ready nodes and moves bound pods to Running with an IP from the node's
 * podCIDR (and finishes deletions), as a kubelet would. Pod IPs: 10.244.<node>.<n>; services 10.0.0.0/16.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Stored } from '../../src/api/objects.ts';
import type { Informer, ResourceTypes } from '../../src/client/client.ts';
import { sleep } from '../../src/util/wait.ts';
import { playKubelet, readyNode } from './fake-kubelet.ts';
import { isStatusError } from '../../src/api/status.ts';
import { startApiServer, type TestApiServer } from '../support/apiserver.ts';
import { KUBECTL_VERSIONS, kubectl, kubectlAvailable } from '../support/kubectl.ts';
import { TSKUBE, startProcess, type StartedProcess } from '../support/processes.ts';
import { waitFor } from '../../src/util/wait.ts';

const LAB = fileURLToPath(new URL('../../examples/lab/', import.meta.url));

describe('controller manager and scheduler', () => {
  let server: TestApiServer;
  let cm: StartedProcess;
  let scheduler: StartedProcess;
  let kubelet: Informer<Stored<Pod>>;
  let cache: string;
  const r = <R extends keyof ResourceTypes>(name: R) => server.client.typed(name);
  const startCm = () =>
    (cm = startProcess(
      [
        TSKUBE,
        'controller-manager',
        `--kubeconfig=${server.kubeconfig}`,
        '--allocate-node-cidrs',
        '--cluster-cidr=10.244.0.0/16',
        '--node-cidr-mask-size=24',
        '--leader-elect=false',
      ],
      { logFile: process.env.CM_LOG },
    ));
  const list = async <R extends keyof ResourceTypes>(resource: R, labelSelector?: string) =>
    (await server.client.list(r(resource), { namespace: 'default', labelSelector })).items;
  const livePods = async () => (await list('pods', 'app=nginx')).filter((p) => !p.metadata.deletionTimestamp);

  /** runPods runs bound pods like a kubelet would: Running, Ready, an IP from the node's podCIDR. */
  function runPods(): Informer<Stored<Pod>> {
    const next = new Map<string, number>();
    return playKubelet(server.client, async (pod) => {
      if (pod.status?.phase === 'Running') return undefined;
      const node = await server.client.get(server.client.typed('nodes'), undefined, pod.spec!.nodeName!);
      if (!node.spec?.podCIDR) return undefined;
      const n = (next.get(node.metadata.name) ?? 1) + 1;
      next.set(node.metadata.name, n);
      const podIP = node.spec.podCIDR.replace(/\.0\/24$/, `.${n}`);
      return { phase: 'Running', podIP, hostIP: '192.168.0.1', image: 'nginx:1.7.9' };
    });
  }

  before(async () => {
    server = await startApiServer();
    cache = await mkdtemp(join(tmpdir(), 'kubectl-cache-'));
    for (const name of ['nodea', 'nodeb']) {
      await server.client.create(
        r('nodes'),
        undefined,
        readyNode(name, {
          labels: { 'kubernetes.io/hostname': name },
          cpu: '2',
          memory: '4Gi',
          address: name === 'nodea' ? '192.168.0.10' : '192.168.0.11',
        }),
      );
    }
    startCm();
    scheduler = startProcess([TSKUBE, 'scheduler', `--kubeconfig=${server.kubeconfig}`, '--leader-elect=false']);
    kubelet = runPods();
  });

  after(async () => {
    await kubelet?.stop();
    await cm?.stop();
    await scheduler?.stop();
    await server?.stop();
    await rm(cache, { recursive: true, force: true });
  });

  test('node IPAM gives every node its own pod subnet', async () => {
    const cidrs = await waitFor('pod CIDRs', async () => {
      const nodes = (await server.client.list(server.client.typed('nodes'))).items;
      return nodes.every((n) => n.spec?.podCIDR) ? nodes.map((n) => n.spec!.podCIDR!) : undefined;
    });
    assert.equal(new Set(cidrs).size, 2);
    for (const c of cidrs) assert.match(c, /^10\.244\.\d+\.0\/24$/);
  });

  test("the lab's Deployment yields one ReplicaSet and two Running pods, one per node", async () => {
    const result = await kubectl('1.33', server.kubeconfig, cache, ['create', '-f', 'testdep.yaml'], { cwd: LAB });
    assert.equal(result.stdout, 'deployment.apps/nginx-deployment created\n', result.stderr);
    const pods = await waitFor('two running pods', async () => {
      const p = await livePods();
      return p.length === 2 && p.every((x) => x.status?.phase === 'Running') ? p : undefined;
    });
    assert.notEqual(pods[0]!.spec?.nodeName, pods[1]!.spec?.nodeName, 'spread over both nodes');
    const rss = await list('replicasets');
    assert.equal(rss.length, 1);
    const hash = rss[0]!.metadata.labels?.['pod-template-hash'];
    assert.equal(rss[0].metadata.name, `nginx-deployment-${hash}`);
    for (const p of pods) {
      assert.match(p.metadata.name, new RegExp(`^nginx-deployment-${hash}-[bcdfghjklmnpqrstvwxz2456789]{5}$`));
      assert.equal(p.metadata.labels?.['pod-template-hash'], hash);
    }
    const get = await kubectl('1.33', server.kubeconfig, cache, ['get', 'deploy']);
    await waitFor('2/2 in kubectl get deploy', async () =>
      /nginx-deployment\s+2\/2\s+2\s+2\s/.test(
        (await kubectl('1.33', server.kubeconfig, cache, ['get', 'deploy'])).stdout,
      ),
    );
    assert.equal(get.code, 0);
    const labels = await kubectl('1.33', server.kubeconfig, cache, ['get', 'pods', '--show-labels']);
    assert.match(labels.stdout, new RegExp(`app=nginx,pod-template-hash=${hash}`));
  });

  test('a Service gets EndpointSlices and Endpoints with exactly the ready pod IPs, shown by kubectl describe', async () => {
    await kubectl('1.33', server.kubeconfig, cache, ['create', '-f', 'nsvc.yaml'], { cwd: LAB });
    const ips = (await livePods()).map((p) => `${p.status?.podIP}:80`).sort();
    await waitFor('the Endpoints object', async () => {
      const ep = await server.client.get(r('endpoints'), 'default', 'nsvc').catch(() => undefined);
      const listed = (ep?.subsets ?? [])
        .flatMap((s: any) => (s.addresses ?? []).map((a: any) => `${a.ip}:${s.ports[0].port}`))
        .sort();
      return JSON.stringify(listed) === JSON.stringify(ips);
    });
    const slices = (
      await server.client.list(r('endpointslices'), {
        namespace: 'default',
        labelSelector: 'kubernetes.io/service-name=nsvc',
      })
    ).items;
    assert.equal(slices.length, 1);
    assert.equal(
      slices[0]!.metadata.labels?.['endpointslice.kubernetes.io/managed-by'],
      'endpointslice-controller.k8s.io',
    );
    assert.deepEqual(slices[0]!.endpoints.map((e) => `${e.addresses[0]}:${slices[0]!.ports?.[0]?.port}`).sort(), ips);
    for (const version of KUBECTL_VERSIONS) {
      if (!kubectlAvailable(version)) continue;
      const { stdout } = await kubectl(version, server.kubeconfig, cache, ['describe', 'svc', 'nsvc']);
      const line = /^Endpoints:\s+(.*)$/m.exec(stdout)?.[1] ?? '';
      assert.deepEqual(line.split(',').sort(), ips, `kubectl ${version}: ${line}`);
    }
  });

  test('a deleted or edited managed EndpointSlice and a deleted Endpoints object are put back', async () => {
    const slices = async () =>
      (
        await server.client.list(r('endpointslices'), {
          namespace: 'default',
          labelSelector: 'kubernetes.io/service-name=nsvc',
        })
      ).items as any[];
    const [first] = await slices();
    const addresses = first.endpoints.map((e: any) => e.addresses[0]).sort();
    await server.client.delete(r('endpointslices'), 'default', first.metadata.name);
    const recreated = await waitFor('a new slice', async () =>
      (await slices()).find((s) => s.metadata.name !== first.metadata.name),
    );
    assert.deepEqual(recreated.endpoints.map((e: any) => e.addresses[0]).sort(), addresses);
    await server.client.update(r('endpointslices'), { ...recreated, endpoints: [] });
    await waitFor(
      'the endpoints restored',
      async () => ((await slices())[0]?.endpoints ?? []).length === addresses.length,
    );
    await server.client.delete(r('endpoints'), 'default', 'nsvc');
    await waitFor(
      'the Endpoints object recreated',
      async () =>
        (await server.client.get(r('endpoints'), 'default', 'nsvc').catch(() => undefined))?.subsets?.length === 1,
    );
  });

  test('custom Endpoints of a Service without a selector are mirrored into EndpointSlices through create, update and delete', async () => {
    await server.client.create(r('services'), 'default', {
      metadata: { name: 'custom' },
      spec: { ports: [{ name: 'example', port: 80, protocol: 'TCP' }] },
    });
    const ep = await server.client.create(r('endpoints'), 'default', {
      metadata: { name: 'custom', labels: { team: 'a' } },
      subsets: [{ addresses: [{ ip: '10.1.2.3' }], ports: [{ name: 'example', port: 80, protocol: 'TCP' }] }],
    });
    const mirrored = async () =>
      (
        await server.client.list(r('endpointslices'), {
          namespace: 'default',
          labelSelector:
            'kubernetes.io/service-name=custom,endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io',
        })
      ).items as any[];
    const [slice] = await waitFor('a mirrored slice', async () =>
      (await mirrored()).length === 1 ? mirrored() : undefined,
    );
    assert.deepEqual(slice.ports, [{ name: 'example', port: 80, protocol: 'TCP' }]);
    assert.deepEqual(
      slice.endpoints.map((e: any) => [e.addresses, e.conditions.ready]),
      [[['10.1.2.3'], true]],
    );
    assert.equal(slice.metadata.labels.team, 'a');
    assert.equal(slice.metadata.ownerReferences[0].uid, ep.metadata.uid);
    await server.client.update(r('endpoints'), {
      ...ep,
      subsets: [{ addresses: [{ ip: '10.2.3.4' }], ports: [{ name: 'example', port: 8080, protocol: 'TCP' }] }],
    });
    await waitFor('the update mirrored', async () => {
      const [s] = await mirrored();
      return s?.ports?.[0]?.port === 8080 && s.endpoints[0].addresses[0] === '10.2.3.4';
    });
    await server.client.delete(r('endpoints'), 'default', 'custom');
    await waitFor('the mirrored slice gone', async () => (await mirrored()).length === 0);
    await server.client.delete(r('services'), 'default', 'custom');
  });

  test('scaling to 5 and back to 2 converges', async () => {
    await kubectl('1.33', server.kubeconfig, cache, ['scale', 'deploy', 'nginx-deployment', '--replicas=5']);
    await waitFor(
      '5 running pods',
      async () => (await livePods()).filter((p) => p.status?.phase === 'Running').length === 5,
    );
    await kubectl('1.33', server.kubeconfig, cache, ['scale', 'deploy', 'nginx-deployment', '--replicas=2']);
    await waitFor('2 pods', async () => (await list('pods', 'app=nginx')).length === 2);
  });

  test('a restart of the controller manager mid-way converges without duplicate pods, and node CIDRs stay', async () => {
    const before = (await server.client.list(r('nodes'))).items.map((n: any) => n.spec.podCIDR);
    await cm.stop('SIGKILL');
    await server.client.patch(r('deployments'), 'default', 'nginx-deployment', { spec: { replicas: 3 } }, 'merge');
    startCm();
    await waitFor(
      '3 running pods',
      async () => (await livePods()).filter((p) => p.status?.phase === 'Running').length === 3,
    );
    await sleep(1000);
    assert.equal((await livePods()).length, 3, 'no duplicates');
    const after = (await server.client.list(r('nodes'))).items.map((n: any) => n.spec.podCIDR);
    assert.deepEqual(after, before);
  });

  test('a template change rolls to a new ReplicaSet', async () => {
    const old = (await list('replicasets'))[0].metadata.name;
    await kubectl('1.33', server.kubeconfig, cache, ['set', 'image', 'deploy/nginx-deployment', 'nginx=nginx:1.16.1']);
    await waitFor(
      'all pods on the new template',
      async () => {
        const pods = await list('pods', 'app=nginx');
        const rss = await list('replicasets');
        const fresh = rss.find((rs) => rs.metadata.name !== old);
        return (
          fresh &&
          pods.length === 3 &&
          pods.every(
            (p) =>
              p.metadata.labels?.['pod-template-hash'] === fresh.metadata.labels?.['pod-template-hash'] &&
              p.status?.phase === 'Running',
          )
        );
      },
      { timeoutMs: 30_000 },
    );
    const oldRs = (await list('replicasets')).find((rs) => rs.metadata.name === old);
    assert.equal(oldRs?.spec?.replicas, 0);
  });

  test('a Deployment adopts a matching orphan ReplicaSet, scales it down and takes the next revision after its own', async () => {
    const rsLabels = { name: 'sample-pod', pod: 'httpd' };
    await server.client.create(r('replicasets'), 'default', {
      metadata: {
        name: 'test-rolling-update-controller',
        labels: rsLabels,
        annotations: { 'deployment.kubernetes.io/revision': '3546343826724305832' },
      },
      spec: {
        replicas: 1,
        selector: { matchLabels: rsLabels },
        template: { metadata: { labels: rsLabels }, spec: { containers: [{ name: 'httpd', image: 'nginx:1.25' }] } },
      },
    });
    await waitFor("the orphan ReplicaSet's pod running", async () =>
      (await list('pods', 'name=sample-pod')).some((p) => p.status?.phase === 'Running'),
    );
    await server.client.create(r('deployments'), 'default', {
      metadata: { name: 'test-rolling-update-deployment' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { name: 'sample-pod' } },
        template: {
          metadata: { labels: { name: 'sample-pod' } },
          spec: { containers: [{ name: 'agnhost', image: 'busybox:1.36', command: ['sleep', '3600'] }] },
        },
      },
    });
    const d = await waitFor('the next revision on the Deployment', async () => {
      const got = await server.client.get(r('deployments'), 'default', 'test-rolling-update-deployment');
      return got.metadata.annotations?.['deployment.kubernetes.io/revision'] === '3546343826724305833' &&
        got.status?.updatedReplicas === 1 &&
        got.status?.availableReplicas === 1 &&
        got.status?.replicas === 1
        ? got
        : undefined;
    });
    const owned = (await list('replicasets')).filter((x) =>
      x.metadata.ownerReferences?.some((o: any) => o.controller && o.uid === d.metadata.uid),
    );
    assert.equal(owned.length, 2);
    const old = owned.find((x) => x.metadata.name === 'test-rolling-update-controller');
    assert.equal(old?.spec?.replicas, 0);
    const fresh = owned.find((x) => x !== old);
    assert.equal(fresh?.metadata.annotations?.['deployment.kubernetes.io/revision'], '3546343826724305833');
    await server.client.delete(r('deployments'), 'default', 'test-rolling-update-deployment');
  });

  test('deleting the Deployment leaves no ReplicaSet or pod', async () => {
    const result = await kubectl('1.33', server.kubeconfig, cache, ['delete', 'deploy', 'nginx-deployment']);
    assert.equal(result.stdout, 'deployment.apps "nginx-deployment" deleted\n');
    await waitFor(
      'no replicasets and no pods',
      async () => (await list('replicasets')).length === 0 && (await list('pods')).length === 0,
      { timeoutMs: 20_000 },
    );
    await kubectl('1.33', server.kubeconfig, cache, ['delete', 'svc', 'nsvc']);
    await waitFor("the service's endpoints to go", async () => {
      const gone = await server.client.get(r('endpoints'), 'default', 'nsvc').then(
        () => false,
        (e) => isStatusError(e, 404),
      );
      return (
        gone &&
        (await list('endpointslices')).every((s) => s.metadata.labels?.['kubernetes.io/service-name'] !== 'nsvc')
      );
    });
  });
  test('--cascade=orphan keeps the ReplicaSet and pods; foreground deletion removes dependents first', async () => {
    await server.client.create(r('deployments'), 'default', {
      metadata: { name: 'orph' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'orph' } },
        template: { metadata: { labels: { app: 'orph' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      },
    });
    await waitFor('the orph pod', async () => (await list('pods', 'app=orph')).length === 1);
    await kubectl('1.33', server.kubeconfig, cache, ['delete', 'deploy', 'orph', '--cascade=orphan']);
    await waitFor('the deployment to go', async () =>
      (await list('deployments')).every((d) => d.metadata.name !== 'orph'),
    );
    const rs = (await list('replicasets')).find((x) => x.metadata.labels?.app === 'orph');
    assert.ok(rs, 'the ReplicaSet stays');
    assert.deepEqual(rs.metadata.ownerReferences ?? [], [], 'released from its owner');
    assert.equal((await list('pods', 'app=orph')).length, 1);
    const result = await kubectl('1.33', server.kubeconfig, cache, [
      'delete',
      'rs',
      rs.metadata.name,
      '--cascade=foreground',
    ]);
    assert.equal(result.code, 0, result.stderr);
    await waitFor(
      'foreground deletion to finish',
      async () => (await list('replicasets')).length === 0 && (await list('pods', 'app=orph')).length === 0,
      { timeoutMs: 20_000 },
    );
  });

  test('a pod that fits nowhere stays Pending with a FailedScheduling event that says why', async () => {
    await server.client.create(r('pods'), 'default', {
      metadata: { name: 'huge' },
      spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '64' } } }] },
    });
    await waitFor('the FailedScheduling event', async () => {
      const { stdout } = await kubectl('1.33', server.kubeconfig, cache, ['describe', 'pod', 'huge']);
      return /Warning\s+FailedScheduling\s+.*0\/2 nodes are available: 2 Insufficient cpu\./.test(stdout);
    });
    assert.equal((await server.client.get(r('pods'), 'default', 'huge')).status?.phase, 'Pending');
    await server.client.delete(r('pods'), 'default', 'huge');
  });

  test('of two controller managers with leader election, one holds the lease and acts', async () => {
    const a = startProcess([TSKUBE, 'controller-manager', `--kubeconfig=${server.kubeconfig}`]);
    const b = startProcess([TSKUBE, 'controller-manager', `--kubeconfig=${server.kubeconfig}`]);
    try {
      const lease = await waitFor(
        'the lease',
        async () =>
          (await server.client.get(r('leases'), 'kube-system', 'kube-controller-manager').catch(() => undefined))?.spec
            ?.holderIdentity,
      );
      await sleep(3000);
      const leaders = [a, b].filter((p) => p.output().includes('successfully acquired lease'));
      assert.equal(leaders.length, 1, 'exactly one leader');
      assert.equal(
        (await server.client.get(r('leases'), 'kube-system', 'kube-controller-manager')).spec?.holderIdentity,
        lease,
        'the lease stays with it',
      );
      await leaders[0]!.stop();
      const other = leaders[0] === a ? b : a;
      await waitFor('the other to take over', () => other.output().includes('successfully acquired lease'), {
        timeoutMs: 30_000,
      });
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
