/**
 * Upstream's [Conformance] tests for Services, EndpointSlices, networking, probes, pods and apps, restated on one
 * real `tskube up` cluster ("tcf", LAN 192.168.228.0/24, two nodes). Each test is named after the upstream codename
 * it covers (docs/conformance.md lists them, and those not covered) and asserts what upstream's test asserts, with
 * the process runtime's images (nginx, busybox, node) standing in for agnhost, and shorter waits where upstream
 * watches for minutes (said beside each). Traffic "from a pod" is sent from inside the pod's network namespace.
 * Every test works in its own namespace; the cluster goes in after().
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RestClient } from '../../src/client/client.ts';
import { run } from '../../src/sys/run.ts';
import { kubectl, kubectlAvailable } from '../support/kubectl.ts';
import { NOT_ROOT } from '../support/netns.ts';
import { sleep, waitFor } from '../../src/util/wait.ts';
import { timestamp } from '../../src/api/time.ts';
import { type TestCluster, upCluster } from '../support/cluster.ts';
import type { Resource } from '../../src/client/client.ts';

const NAME = 'tcf';
const LAN = '192.168.228.0/24';
const POD_START_MS = 60_000;
/** serve-hostname as the node image runs it: answers every request with the pod's hostname (its name). */
const SERVE_HOSTNAME = (port: number) => ({
  image: 'node:20',
  command: ['node', '-e', `require('http').createServer((q,s)=>s.end(require('os').hostname())).listen(${port})`],
});
const SLEEPER = { image: 'busybox:1.36', command: ['sh', '-c', 'sleep 3600'] };

describe('conformance', { skip: NOT_ROOT || (!kubectlAvailable('1.33') && 'kubectl 1.33 is not installed') }, () => {
  let cluster: TestCluster | undefined;
  let stateDir: string;
  let cache: string;
  let client: RestClient;
  let counter = 0;
  const r = (resource: string) => client.resource(resource) as Resource<any>;
  const kc = (args: string[]) => kubectl('1.33', join(stateDir, 'admin.conf'), cache, args);

  /**
   * namespace makes a fresh namespace for one test, as the e2e framework does, and like it waits for the namespace's
   * `default` ServiceAccount: ServiceAccount admission refuses pods until the controller has made it.
   */
  async function namespace(base: string): Promise<string> {
    const name = `${base}-${++counter}`;
    await client.create(r('namespaces'), undefined, { metadata: { name } });
    await waitFor(
      `the default ServiceAccount in ${name}`,
      () => client.get(r('serviceaccounts'), name, 'default').catch(() => undefined),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    return name;
  }

  async function createPod(
    ns: string,
    name: string,
    container: Record<string, unknown>,
    extra: { labels?: Record<string, string>; nodeName?: string; spec?: Record<string, unknown> } = {},
  ): Promise<any> {
    return client.create(r('pods'), ns, {
      metadata: { name, labels: extra.labels },
      spec: {
        terminationGracePeriodSeconds: 1,
        ...(extra.nodeName ? { nodeName: extra.nodeName } : {}),
        ...extra.spec,
        containers: [{ name: 'c', ...container }],
      },
    });
  }

  const getPod = (ns: string, name: string) => client.get(r('pods'), ns, name);
  const isReady = (p: any) => (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

  async function waitRunningReady(ns: string, name: string, timeoutMs = POD_START_MS): Promise<any> {
    return waitFor(
      `${ns}/${name} running and ready`,
      async () => {
        const p = await getPod(ns, name);
        return p.status?.phase === 'Running' && isReady(p) && p.status.podIP ? p : undefined;
      },
      { timeoutMs: timeoutMs, intervalMs: 250 },
    );
  }

  const restarts = (p: any) => p.status?.containerStatuses?.[0]?.restartCount ?? 0;
  const netnsOf = (p: any) => `${NAME}-${p.spec.nodeName}-${p.metadata.uid.replace(/-/g, '').slice(0, 12)}`;

  /** httpFrom fetches a URL from inside a network namespace (a pod's or a node's) with busybox wget. */
  async function httpFrom(netns: string, url: string): Promise<string | undefined> {
    try {
      // No `-T`: Debian's busybox 1.35 wget crashes with it; the run timeout bounds the request instead.
      return (
        await run(['nsenter', `--net=/run/netns/${netns}`, '--', '/bin/busybox', 'wget', '-qO-', url], {
          timeoutMs: 3000,
        })
      ).stdout;
    } catch {
      return undefined;
    }
  }

  async function nodeIP(node: string): Promise<string> {
    const n = await client.get(r('nodes'), undefined, node);
    return n.status.addresses.find((a: any) => a.type === 'InternalIP').address;
  }

  async function podLog(ns: string, name: string): Promise<string> {
    return (await kc(['logs', '-n', ns, name])).stdout;
  }

  // Pods for the "should *not* be restarted" tests start first, so they age while the other tests run.
  const LONG: Record<string, string> = {};
  let probeNs: string;

  before(async () => {
    cluster = await upCluster({ name: NAME, lanCidr: LAN, downTimeoutMs: 120_000, userAgent: 'conformance-test' });
    ({ stateDir, cache, client } = cluster);
    probeNs = await namespace('container-probe');
    const health = `/tmp/tskube-conformance-health-${process.pid}`;
    LONG.exec = 'liveness-exec-ok';
    await createPod(probeNs, LONG.exec, {
      image: 'busybox:1.36',
      command: ['sh', '-c', `echo ok > ${health}; sleep 600`],
      livenessProbe: {
        exec: { command: ['cat', health] },
        initialDelaySeconds: 2,
        periodSeconds: 1,
        failureThreshold: 1,
      },
    });
    LONG.http = 'liveness-http-ok';
    await createPod(probeNs, LONG.http, {
      image: 'nginx:1.25',
      livenessProbe: {
        httpGet: { path: '/', port: 80 },
        initialDelaySeconds: 2,
        periodSeconds: 1,
        failureThreshold: 1,
      },
    });
    LONG.tcp = 'liveness-tcp-ok';
    await createPod(probeNs, LONG.tcp, {
      image: 'node:20',
      command: ['node', '-e', "require('net').createServer((s)=>s.end()).listen(8080)"],
      livenessProbe: { tcpSocket: { port: 8080 }, initialDelaySeconds: 2, periodSeconds: 1, failureThreshold: 1 },
    });
    LONG.grpc = 'liveness-grpc-ok';
    await createPod(probeNs, LONG.grpc, {
      image: 'node:20',
      command: ['node', '-e', GRPC_HEALTH_SERVER],
      livenessProbe: { grpc: { port: 5000 }, initialDelaySeconds: 2, periodSeconds: 1, failureThreshold: 1 },
    });
  });

  after(async () => {
    await cluster?.down();
    await rm(`/tmp/tskube-conformance-health-${process.pid}`, { force: true });
  });

  // ---- sig-node: probes (test/e2e/common/node/container_probe.go) ----

  test('[sig-node] Probing container with readiness probe should not be ready before initial delay and never restart [NodeConformance] [Conformance]', async () => {
    const ns = await namespace('container-probe');
    // Upstream's initial delay is 15 s; 5 s keeps the suite short and still far above the probe period.
    await createPod(ns, 'test-webserver', {
      image: 'nginx:1.25',
      readinessProbe: { httpGet: { path: '/', port: 80 }, initialDelaySeconds: 5, periodSeconds: 1 },
    });
    const p = await waitRunningReady(ns, 'test-webserver');
    const startedAt = Date.parse(p.status.containerStatuses[0].state.running.startedAt);
    const readyAt = Date.parse(p.status.conditions.find((c: any) => c.type === 'Ready').lastTransitionTime);
    assert.ok(readyAt - startedAt >= 5000, `ready ${readyAt - startedAt} ms after start, before the initial delay`);
    assert.equal(restarts(p), 0);
  });

  test('[sig-node] Probing container with readiness probe that fails should never be ready and never restart [NodeConformance] [Conformance]', async () => {
    const ns = await namespace('container-probe');
    const seenReady = new Set<string>();
    const watch = new AbortController();
    const watching = client
      .watch(r('pods'), { namespace: ns, signal: watch.signal }, (_type, pod) => {
        if (isReady(pod) || pod.status?.containerStatuses?.some((c: any) => c.ready)) seenReady.add(pod.metadata.name);
      })
      .catch(() => undefined);
    await createPod(ns, 'test-webserver', {
      image: 'nginx:1.25',
      readinessProbe: { httpGet: { path: '/', port: 81 }, periodSeconds: 1 },
    });
    // The variant: an exec readiness probe that always fails must not report Ready even briefly.
    await createPod(ns, 'exec-false', {
      ...SLEEPER,
      readinessProbe: { exec: { command: ['/bin/false'] }, periodSeconds: 1 },
    });
    for (const name of ['test-webserver', 'exec-false'])
      await waitFor(`${name} running`, async () => (await getPod(ns, name)).status?.phase === 'Running', {
        timeoutMs: POD_START_MS,
      });
    // Upstream watches for 1 minute; 12 s is twelve probe periods.
    await sleep(12_000);
    watch.abort();
    await watching;
    assert.deepEqual([...seenReady], []);
    for (const name of ['test-webserver', 'exec-false']) {
      const p = await getPod(ns, name);
      assert.equal(isReady(p), false);
      assert.equal(restarts(p), 0);
    }
  });

  test('[sig-node] Probing container should be restarted with a exec "cat /tmp/health" liveness probe [NodeConformance] [Conformance]', async () => {
    const ns = await namespace('container-probe');
    const health = `/tmp/tskube-conformance-gone-${process.pid}`;
    await createPod(ns, 'liveness-exec', {
      image: 'busybox:1.36',
      command: ['sh', '-c', `echo ok > ${health}; sleep 4; rm -f ${health}; sleep 600`],
      livenessProbe: {
        exec: { command: ['cat', health] },
        initialDelaySeconds: 2,
        periodSeconds: 1,
        failureThreshold: 1,
      },
    });
    await waitFor('a restart', async () => restarts(await getPod(ns, 'liveness-exec')) >= 1, {
      timeoutMs: 60_000,
      intervalMs: 500,
    });
  });

  test('[sig-node] Probing container should be restarted with a /healthz http liveness probe [NodeConformance] [Conformance]', async () => {
    const ns = await namespace('container-probe');
    // agnhost liveness: /healthz answers 200 for a while after start, then 500.
    const server =
      "const t=Date.now();require('http').createServer((q,s)=>{s.statusCode=q.url==='/healthz'&&Date.now()-t<3000?200:500;s.end()}).listen(8080)";
    await createPod(ns, 'liveness-http', {
      image: 'node:20',
      command: ['node', '-e', server],
      livenessProbe: {
        httpGet: { path: '/healthz', port: 8080 },
        initialDelaySeconds: 1,
        periodSeconds: 1,
        failureThreshold: 1,
      },
    });
    await waitFor('a restart', async () => restarts(await getPod(ns, 'liveness-http')) >= 1, {
      timeoutMs: 60_000,
      intervalMs: 500,
    });
  });

  test('[sig-node] Probing container should be restarted with a GRPC liveness probe [NodeConformance] [Conformance]', async () => {
    const ns = await namespace('container-probe');
    // The server listens on 5000, the probe asks 2333: nothing answers, the container is restarted.
    await createPod(ns, 'liveness-grpc', {
      image: 'node:20',
      command: ['node', '-e', GRPC_HEALTH_SERVER],
      livenessProbe: { grpc: { port: 2333 }, initialDelaySeconds: 1, periodSeconds: 1, failureThreshold: 1 },
    });
    await waitFor('a restart', async () => restarts(await getPod(ns, 'liveness-grpc')) >= 1, {
      timeoutMs: 60_000,
      intervalMs: 500,
    });
  });

  // ---- sig-node: pods (test/e2e/common/node/pods.go) ----

  test('[sig-node] Pods should contain environment variables for services [NodeConformance] [Conformance]', async () => {
    const ns = await namespace('pods');
    await createPod(ns, 'server-envvars', SERVE_HOSTNAME(8080), { labels: { name: 'server-envvars' } });
    await waitRunningReady(ns, 'server-envvars');
    const svc = await client.create(r('services'), ns, {
      metadata: { name: 'fooservice' },
      spec: { selector: { name: 'server-envvars' }, ports: [{ port: 8765, targetPort: 8080 }] },
    });
    await createPod(
      ns,
      'client-envvars',
      { image: 'busybox:1.36', command: ['sh', '-c', 'env'] },
      { spec: { restartPolicy: 'Never' } },
    );
    await waitFor(
      'client-envvars to finish',
      async () => (await getPod(ns, 'client-envvars')).status?.phase === 'Succeeded',
      { timeoutMs: POD_START_MS },
    );
    const env = await waitFor('its log', async () => (await podLog(ns, 'client-envvars')) || undefined);
    const ip = svc.spec.clusterIP;
    for (const line of [
      `FOOSERVICE_SERVICE_HOST=${ip}`,
      'FOOSERVICE_SERVICE_PORT=8765',
      `FOOSERVICE_PORT=tcp://${ip}:8765`,
      `FOOSERVICE_PORT_8765_TCP_PORT=8765`,
      'FOOSERVICE_PORT_8765_TCP_PROTO=tcp',
      `FOOSERVICE_PORT_8765_TCP=tcp://${ip}:8765`,
      `FOOSERVICE_PORT_8765_TCP_ADDR=${ip}`,
      'KUBERNETES_SERVICE_HOST=',
      'KUBERNETES_PORT_443_TCP_PROTO=tcp',
    ]) {
      assert.ok(
        env.split('\n').some((l) => l.startsWith(line)),
        `${line} in:\n${env}`,
      );
    }
  });

  // ---- sig-network: Services (test/e2e/network/service.go) ----

  /** endpointsOf is the Service's Endpoints as "podName:port" and its EndpointSlices' as the same, sorted. */
  async function endpointsOf(ns: string, name: string): Promise<{ endpoints: string[]; slices: string[] }> {
    const ep = await client.get(r('endpoints'), ns, name).catch(() => undefined);
    const endpoints = (ep?.subsets ?? [])
      .flatMap((s: any) =>
        (s.addresses ?? []).flatMap((a: any) => s.ports.map((p: any) => `${a.targetRef?.name}:${p.port}`)),
      )
      .sort();
    const slices = (
      await client.list(r('endpointslices'), { namespace: ns, labelSelector: `kubernetes.io/service-name=${name}` })
    ).items as any[];
    const fromSlices = slices
      .flatMap((s) =>
        (s.endpoints ?? [])
          .filter((e: any) => e.conditions?.ready)
          .flatMap((e: any) => (s.ports ?? []).map((p: any) => `${e.targetRef?.name}:${p.port}`)),
      )
      .sort();
    return { endpoints, slices: fromSlices };
  }

  async function expectEndpoints(ns: string, name: string, want: string[]): Promise<void> {
    const sorted = [...want].sort();
    let got: { endpoints: string[]; slices: string[] } | undefined;
    try {
      await waitFor(
        `${ns}/${name} endpoints ${sorted.join(',')}`,
        async () => {
          got = await endpointsOf(ns, name);
          return (
            JSON.stringify(got.endpoints) === JSON.stringify(sorted) &&
            JSON.stringify(got.slices) === JSON.stringify(sorted)
          );
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
    } catch (error) {
      // Name the cause next time: what the API server held, and what the controller manager did.
      const log = await readFile(join(stateDir, 'logs', 'controller-manager.log'), 'utf8').catch((e) => `${e}`);
      const tail = log.split('\n').slice(-40).join('\n');
      throw new Error(
        `${(error as Error).message}; last seen ${JSON.stringify(got)}; controller-manager log:\n${tail}`,
      );
    }
  }

  test('[sig-network] Services should serve a basic endpoint from pods [Conformance]', async () => {
    const ns = await namespace('services');
    const labels = { 'test-endpoints': 'endpoint-test2' };
    const svc = await client.create(r('services'), ns, {
      metadata: { name: 'endpoint-test2' },
      spec: { selector: labels, ports: [{ port: 80, targetPort: 80 }] },
    });
    await expectEndpoints(ns, 'endpoint-test2', []);
    await createPod(ns, 'pod1', { image: 'nginx:1.25', ports: [{ containerPort: 80 }] }, { labels });
    await expectEndpoints(ns, 'endpoint-test2', ['pod1:80']);
    await createPod(ns, 'pod2', { image: 'nginx:1.25', ports: [{ containerPort: 80 }] }, { labels });
    await expectEndpoints(ns, 'endpoint-test2', ['pod1:80', 'pod2:80']);
    const clientPod = await createPod(ns, 'execpod', SLEEPER);
    const running = await waitRunningReady(ns, clientPod.metadata.name);
    const page = await waitFor(
      'the Service from a pod',
      () => httpFrom(netnsOf(running), `http://${svc.spec.clusterIP}/`),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    assert.match(page, /Welcome to nginx!/);
    await client.delete(r('pods'), ns, 'pod1');
    await expectEndpoints(ns, 'endpoint-test2', ['pod2:80']);
    await client.delete(r('pods'), ns, 'pod2');
    await expectEndpoints(ns, 'endpoint-test2', []);
  });

  test('[sig-network] Services should serve multiport endpoints from pods [Conformance]', async () => {
    const ns = await namespace('services');
    const labels = { 'test-multiport': 'multi-endpoint-test' };
    await client.create(r('services'), ns, {
      metadata: { name: 'multi-endpoint-test' },
      spec: {
        selector: labels,
        ports: [
          { name: 'portname1', port: 80, targetPort: 'svc1' },
          { name: 'portname2', port: 81, targetPort: 'svc2' },
        ],
      },
    });
    await createPod(ns, 'pod1', { image: 'nginx:1.25', ports: [{ name: 'svc1', containerPort: 100 }] }, { labels });
    await expectEndpoints(ns, 'multi-endpoint-test', ['pod1:100']);
    await createPod(ns, 'pod2', { image: 'nginx:1.25', ports: [{ name: 'svc2', containerPort: 101 }] }, { labels });
    await expectEndpoints(ns, 'multi-endpoint-test', ['pod1:100', 'pod2:101']);
    await client.delete(r('pods'), ns, 'pod1');
    await expectEndpoints(ns, 'multi-endpoint-test', ['pod2:101']);
  });

  /** backends starts n serve-hostname pods on port 9376 behind labels, and a client pod; it returns the client. */
  async function backends(ns: string, labels: Record<string, string>, n: number): Promise<any> {
    for (let i = 0; i < n; i++)
      await createPod(ns, `backend-${i}`, SERVE_HOSTNAME(9376), { labels, nodeName: i % 2 ? 'nodeb' : 'nodea' });
    await createPod(ns, 'execpod', SLEEPER, { nodeName: 'nodea' });
    for (let i = 0; i < n; i++) await waitRunningReady(ns, `backend-${i}`);
    return waitRunningReady(ns, 'execpod');
  }

  /** hostsBehind asks url `times` times from a pod and returns the distinct answers. */
  async function hostsBehind(pod: any, url: string, times: number): Promise<Set<string>> {
    const seen = new Set<string>();
    for (let i = 0; i < times; i++) {
      const answer = await httpFrom(netnsOf(pod), url);
      if (answer) seen.add(answer);
    }
    return seen;
  }

  test('[sig-network] Services should be able to switch session affinity for service with type clusterIP [LinuxOnly] [Conformance]', async () => {
    const ns = await namespace('services');
    const labels = { name: 'affinity-clusterip-transition' };
    const svc = await client.create(r('services'), ns, {
      metadata: { name: 'affinity-clusterip-transition' },
      spec: { selector: labels, sessionAffinity: 'ClientIP', ports: [{ port: 80, targetPort: 9376 }] },
    });
    const execpod = await backends(ns, labels, 3);
    await expectEndpoints(ns, svc.metadata.name, ['backend-0:9376', 'backend-1:9376', 'backend-2:9376']);
    const url = `http://${svc.spec.clusterIP}/`;
    await waitFor('the Service to answer', () => httpFrom(netnsOf(execpod), url), {
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    assert.equal((await hostsBehind(execpod, url, 15)).size, 1, 'ClientIP affinity: every request to the same backend');
    const current = await client.get(r('services'), ns, svc.metadata.name);
    const none = await client.update(r('services'), { ...current, spec: { ...current.spec, sessionAffinity: 'None' } });
    assert.equal(none.spec.sessionAffinityConfig, undefined, 'switching to None clears sessionAffinityConfig');
    await waitFor(
      'requests spread over more than one backend',
      async () => (await hostsBehind(execpod, url, 15)).size > 1,
      { timeoutMs: 30_000, intervalMs: 0 },
    );
    const back = await client.get(r('services'), ns, svc.metadata.name);
    await client.update(r('services'), { ...back, spec: { ...back.spec, sessionAffinity: 'ClientIP' } });
    await waitFor('affinity back on', async () => (await hostsBehind(execpod, url, 15)).size === 1, {
      timeoutMs: 30_000,
      intervalMs: 0,
    });
  });

  test('[sig-network] Services should be able to change the type from ClusterIP to ExternalName [Conformance]', async () => {
    const ns = await namespace('services');
    const svc = await client.create(r('services'), ns, {
      metadata: { name: 'clusterip-service' },
      spec: { type: 'ClusterIP', ports: [{ port: 80, targetPort: 80 }] },
    });
    assert.ok(svc.spec.clusterIP);
    const updated = await client.update(r('services'), {
      ...svc,
      spec: { ...svc.spec, type: 'ExternalName', externalName: `externalsvc.${ns}.svc.cluster.local` },
    });
    assert.equal(updated.spec.type, 'ExternalName');
    assert.equal(updated.spec.clusterIP ?? '', '');
    assert.equal(updated.spec.clusterIPs, undefined);
    // The ClusterIP went back to the pool: a new Service may ask for it.
    const again = await client.create(r('services'), ns, {
      metadata: { name: 'reuse' },
      spec: { clusterIP: svc.spec.clusterIP, ports: [{ port: 80 }] },
    });
    assert.equal(again.spec.clusterIP, svc.spec.clusterIP);
  });

  test('[sig-network] Services should be able to change the type from ExternalName to ClusterIP [Conformance]', async () => {
    const ns = await namespace('services');
    const labels = { name: 'externalname-service' };
    const svc = await client.create(r('services'), ns, {
      metadata: { name: 'externalname-service' },
      spec: { type: 'ExternalName', externalName: 'foo.example.com', selector: labels },
    });
    assert.equal(svc.spec.clusterIP ?? '', '');
    const execpod = await backends(ns, labels, 2);
    const updated = await client.update(r('services'), {
      ...svc,
      spec: {
        ...svc.spec,
        type: 'ClusterIP',
        externalName: '',
        ports: [{ name: 'http', port: 80, targetPort: 9376, protocol: 'TCP' }],
      },
    });
    assert.match(updated.spec.clusterIP, /^\d+\.\d+\.\d+\.\d+$/);
    const answer = await waitFor(
      'the Service reachable through its new ClusterIP',
      () => httpFrom(netnsOf(execpod), `http://${updated.spec.clusterIP}/`),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    assert.match(answer, /^backend-\d$/);
  });

  test('[sig-network] Services should be able to create a functioning NodePort service [Conformance]', async () => {
    const ns = await namespace('services');
    const labels = { name: 'nodeport-test' };
    const svc = await client.create(r('services'), ns, {
      metadata: { name: 'nodeport-test' },
      spec: { type: 'NodePort', selector: labels, ports: [{ name: 'http', port: 80, targetPort: 9376 }] },
    });
    const nodePort = svc.spec.ports[0].nodePort;
    assert.ok(nodePort >= 30000 && nodePort <= 32767);
    const execpod = await backends(ns, labels, 2);
    for (const node of ['nodea', 'nodeb']) {
      const ip = await nodeIP(node);
      const answer = await waitFor(
        `the NodePort on ${node} from a pod`,
        () => httpFrom(netnsOf(execpod), `http://${ip}:${nodePort}/`),
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      assert.match(answer, /^backend-\d$/);
    }
    const answer = await waitFor(
      'the ClusterIP from a pod',
      () => httpFrom(netnsOf(execpod), `http://${svc.spec.clusterIP}/`),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    assert.match(answer, /^backend-\d$/);
  });

  test('[sig-network] Services should complete a service status lifecycle [Conformance]', async () => {
    const ns = await namespace('services');
    const svc = await client.create(r('services'), ns, {
      metadata: { name: 'test-service', labels: { 'test-service-static': 'true' } },
      spec: { type: 'LoadBalancer', ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    });
    const patched = await client.patch(
      r('services'),
      ns,
      svc.metadata.name,
      {
        metadata: { annotations: { patchedstatus: 'true' } },
        status: { loadBalancer: { ingress: [{ ip: '203.0.113.1' }] } },
      },
      'merge',
      { subresource: 'status' },
    );
    assert.equal(patched.metadata.annotations.patchedstatus, 'true');
    assert.deepEqual(patched.status.loadBalancer.ingress, [{ ip: '203.0.113.1' }]);
    const status = await client.get(r('services'), ns, svc.metadata.name, 'status');
    assert.deepEqual(status.status.loadBalancer.ingress, [{ ip: '203.0.113.1' }]);
    const condition = {
      type: 'StatusUpdate',
      status: 'True',
      reason: 'E2E',
      message: 'Set from e2e test',
      lastTransitionTime: timestamp(),
    };
    const updated = await client.update(
      r('services'),
      {
        ...status,
        metadata: { ...status.metadata, annotations: { ...status.metadata.annotations, statusupdated: 'true' } },
        spec: { ...status.spec, type: 'ClusterIP' },
        status: { ...status.status, conditions: [condition] },
      },
      { subresource: 'status' },
    );
    assert.equal(updated.metadata.annotations.statusupdated, 'true', 'a status write keeps its metadata changes');
    assert.equal(updated.spec.type, 'LoadBalancer', 'a status write does not change the spec');
    assert.equal(updated.status.conditions[0].type, 'StatusUpdate');
    const relabelled = await client.patch(
      r('services'),
      ns,
      svc.metadata.name,
      { metadata: { labels: { 'test-service': 'patched' } } },
      'merge',
    );
    assert.equal(relabelled.metadata.labels['test-service'], 'patched');
    await client.delete(r('services'), ns, svc.metadata.name);
    await waitFor('the Service gone', async () =>
      client.get(r('services'), ns, svc.metadata.name).then(
        () => false,
        () => true,
      ),
    );
  });

  // ---- sig-network: EndpointSlices (test/e2e/network/endpointslice.go, endpointslicemirroring.go) ----

  test('[sig-network] EndpointSlice should have Endpoints and EndpointSlices pointing to API Server [Conformance]', async () => {
    const ep = await client.get(r('endpoints'), 'default', 'kubernetes');
    const slice = await client.get(r('endpointslices'), 'default', 'kubernetes');
    const epAddresses = ep.subsets.flatMap((s: any) => s.addresses.map((a: any) => a.ip));
    assert.deepEqual(
      slice.endpoints.map((e: any) => e.addresses[0]),
      epAddresses,
    );
    assert.equal(slice.ports[0].port, ep.subsets[0].ports[0].port);
  });

  test('[sig-network] EndpointSlice should create Endpoints and EndpointSlices for Pods matching a Service [Conformance]', async () => {
    const ns = await namespace('endpointslice');
    const pod1 = await createPod(
      ns,
      'pod1',
      { image: 'nginx:1.25', ports: [{ name: 'example-name', containerPort: 3000 }] },
      { labels: { label1: 'one' } },
    );
    const pod2 = await createPod(
      ns,
      'pod2',
      { image: 'nginx:1.25', ports: [{ name: 'example-name', containerPort: 3001 }] },
      { labels: { label2: 'two' } },
    );
    await client.create(r('services'), ns, {
      metadata: { name: 'example-empty-selector' },
      spec: {
        selector: { 'does-not-match-anything': 'endpoints-and-endpoint-slices' },
        ports: [{ name: 'example', port: 80, protocol: 'TCP' }],
      },
    });
    const svc1 = await client.create(r('services'), ns, {
      metadata: { name: 'example-int-port' },
      spec: { selector: { label1: 'one' }, ports: [{ name: 'example', port: 80, targetPort: 3000, protocol: 'TCP' }] },
    });
    const svc2 = await client.create(r('services'), ns, {
      metadata: { name: 'example-named-port' },
      spec: {
        selector: { label2: 'two' },
        ports: [{ name: 'http', port: 80, targetPort: 'example-name', protocol: 'TCP' }],
      },
    });
    await waitRunningReady(ns, 'pod1');
    await waitRunningReady(ns, 'pod2');
    await expectEndpoints(ns, 'example-int-port', ['pod1:3000']);
    await expectEndpoints(ns, 'example-named-port', ['pod2:3001']);
    await expectEndpoints(ns, 'example-empty-selector', []);
    for (const [svc, pod] of [
      [svc1, pod1],
      [svc2, pod2],
    ] as const) {
      const slices = (
        await client.list(r('endpointslices'), {
          namespace: ns,
          labelSelector: `kubernetes.io/service-name=${svc.metadata.name}`,
        })
      ).items as any[];
      assert.equal(slices.length, 1);
      assert.equal(slices[0].addressType, 'IPv4');
      assert.equal(
        slices[0].metadata.labels['endpointslice.kubernetes.io/managed-by'],
        'endpointslice-controller.k8s.io',
      );
      assert.equal(slices[0].metadata.ownerReferences[0].uid, svc.metadata.uid);
      const e = slices[0].endpoints[0];
      assert.deepEqual(e.targetRef, { kind: 'Pod', namespace: ns, name: pod.metadata.name, uid: pod.metadata.uid });
      assert.equal(e.conditions.ready, true);
      assert.ok(e.nodeName);
    }
    // A deleted managed slice comes back.
    const [before] = (
      await client.list(r('endpointslices'), {
        namespace: ns,
        labelSelector: 'kubernetes.io/service-name=example-int-port',
      })
    ).items as any[];
    await client.delete(r('endpointslices'), ns, before.metadata.name);
    await expectEndpoints(ns, 'example-int-port', ['pod1:3000']);
    await client.delete(r('services'), ns, 'example-int-port');
    await waitFor(
      "the Service's Endpoints and EndpointSlices gone",
      async () => {
        const slices = (
          await client.list(r('endpointslices'), {
            namespace: ns,
            labelSelector: 'kubernetes.io/service-name=example-int-port',
          })
        ).items;
        const ep = await client.get(r('endpoints'), ns, 'example-int-port').catch(() => undefined);
        return slices.length === 0 && !ep;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  });

  test('[sig-network] EndpointSliceMirroring should mirror a custom Endpoints resource through create update and delete [Conformance]', async () => {
    const ns = await namespace('endpointslicemirroring');
    await client.create(r('services'), ns, {
      metadata: { name: 'example-custom-endpoints' },
      spec: { ports: [{ name: 'example', port: 80, protocol: 'TCP' }] },
    });
    const ep = await client.create(r('endpoints'), ns, {
      metadata: { name: 'example-custom-endpoints' },
      subsets: [{ addresses: [{ ip: '10.1.2.3' }], ports: [{ name: 'example', port: 80, protocol: 'TCP' }] }],
    });
    const selector =
      'kubernetes.io/service-name=example-custom-endpoints,endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io';
    const mirrored = async () =>
      (await client.list(r('endpointslices'), { namespace: ns, labelSelector: selector })).items as any[];
    await waitFor(
      'the mirrored slice',
      async () => {
        const slices = await mirrored();
        return (
          slices.length === 1 &&
          slices[0].ports?.[0]?.port === 80 &&
          slices[0].endpoints?.[0]?.addresses?.[0] === '10.1.2.3'
        );
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const current = await client.get(r('endpoints'), ns, ep.metadata.name);
    await client.update(r('endpoints'), {
      ...current,
      subsets: [{ addresses: [{ ip: '10.2.3.4' }], ports: [{ name: 'example', port: 8080, protocol: 'TCP' }] }],
    });
    await waitFor(
      'the update mirrored',
      async () => {
        const slices = await mirrored();
        return (
          slices.length === 1 &&
          slices[0].ports?.[0]?.port === 8080 &&
          slices[0].endpoints?.[0]?.addresses?.[0] === '10.2.3.4'
        );
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    await client.delete(r('endpoints'), ns, ep.metadata.name);
    await waitFor('the mirrored slice gone', async () => (await mirrored()).length === 0, {
      timeoutMs: 30_000,
      intervalMs: 250,
    });
  });

  // ---- sig-network: Networking (test/e2e/common/network/networking.go) ----

  test('[sig-network] Networking Granular Checks: Pods should function for intra-pod communication: http [NodeConformance] [Conformance]', async () => {
    const ns = await namespace('pod-network-test');
    await createPod(ns, 'netserver-0', SERVE_HOSTNAME(8083), { nodeName: 'nodea' });
    await createPod(ns, 'netserver-1', SERVE_HOSTNAME(8083), { nodeName: 'nodeb' });
    await createPod(ns, 'test-container-pod', SLEEPER, { nodeName: 'nodea' });
    const servers = [await waitRunningReady(ns, 'netserver-0'), await waitRunningReady(ns, 'netserver-1')];
    const from = await waitRunningReady(ns, 'test-container-pod');
    for (const server of servers) {
      const answer = await waitFor(
        `${server.metadata.name} from a pod`,
        () => httpFrom(netnsOf(from), `http://${server.status.podIP}:8083/`),
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      assert.equal(answer, server.metadata.name);
    }
  });

  test('[sig-network] Networking Granular Checks: Pods should function for node-pod communication: http [LinuxOnly] [NodeConformance] [Conformance]', async () => {
    const ns = await namespace('pod-network-test');
    await createPod(ns, 'netserver-0', SERVE_HOSTNAME(8083), { nodeName: 'nodea' });
    await createPod(ns, 'netserver-1', SERVE_HOSTNAME(8083), { nodeName: 'nodeb' });
    for (const name of ['netserver-0', 'netserver-1']) {
      const server = await waitRunningReady(ns, name);
      for (const node of ['nodea', 'nodeb']) {
        const answer = await waitFor(
          `${name} from ${node}`,
          () => httpFrom(`${NAME}-${node}`, `http://${server.status.podIP}:8083/`),
          { timeoutMs: 30_000, intervalMs: 250 },
        );
        assert.equal(answer, name);
      }
    }
  });

  // ---- sig-apps: Deployments and garbage collection (test/e2e/apps/deployment.go, apimachinery/garbage_collector.go) ----

  test('[sig-apps] Deployment RollingUpdateDeployment should delete old pods and create new ones [Conformance]', async () => {
    const ns = await namespace('deployment');
    const rsLabels = { name: 'sample-pod', pod: 'httpd' };
    await client.create(r('replicasets'), ns, {
      metadata: {
        name: 'test-rolling-update-controller',
        labels: rsLabels,
        annotations: { 'deployment.kubernetes.io/revision': '3546343826724305832' },
      },
      spec: {
        replicas: 1,
        selector: { matchLabels: rsLabels },
        template: {
          metadata: { labels: rsLabels },
          spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'httpd', image: 'nginx:1.25' }] },
        },
      },
    });
    await waitFor(
      "the ReplicaSet's pod running",
      async () =>
        ((await client.list(r('pods'), { namespace: ns, labelSelector: 'name=sample-pod' })).items as any[]).some(
          (p) => p.status?.phase === 'Running',
        ),
      { timeoutMs: POD_START_MS, intervalMs: 250 },
    );
    const d = await client.create(r('deployments'), ns, {
      metadata: { name: 'test-rolling-update-deployment' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { name: 'sample-pod' } },
        template: {
          metadata: { labels: { name: 'sample-pod' } },
          spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'agnhost', ...SERVE_HOSTNAME(8080) }] },
        },
      },
    });
    const done = await waitFor(
      'revision 3546343826724305833 and a complete rollout',
      async () => {
        const got = await client.get(r('deployments'), ns, d.metadata.name);
        const s = got.status ?? {};
        const complete =
          s.observedGeneration >= got.metadata.generation &&
          s.updatedReplicas === 1 &&
          s.replicas === 1 &&
          s.availableReplicas === 1;
        return got.metadata.annotations?.['deployment.kubernetes.io/revision'] === '3546343826724305833' && complete
          ? got
          : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    const rss = ((await client.list(r('replicasets'), { namespace: ns })).items as any[]).filter((rs) =>
      rs.metadata.ownerReferences?.some((o: any) => o.controller && o.uid === done.metadata.uid),
    );
    const old = rss.filter((rs) => rs.metadata.name === 'test-rolling-update-controller');
    assert.equal(old.length, 1, 'one old ReplicaSet: the adopted one');
    assert.equal(old[0].spec.replicas, 0);
    const pods = (
      (await client.list(r('pods'), { namespace: ns, labelSelector: 'name=sample-pod' })).items as any[]
    ).filter((p) => !p.metadata.deletionTimestamp);
    assert.deepEqual(
      pods.map((p) => p.spec.containers[0].name),
      ['agnhost'],
    );
  });

  async function deploymentWithPods(ns: string, name: string, replicas: number): Promise<any> {
    const labels = { app: name };
    const d = await client.create(r('deployments'), ns, {
      metadata: { name },
      spec: {
        replicas,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'c', ...SLEEPER }] },
        },
      },
    });
    await waitFor(
      `${name}'s ReplicaSet and pods`,
      async () => {
        const rs = (await client.list(r('replicasets'), { namespace: ns })).items as any[];
        const pods = (await client.list(r('pods'), { namespace: ns })).items as any[];
        return rs.length === 1 && pods.length === replicas;
      },
      { timeoutMs: POD_START_MS, intervalMs: 250 },
    );
    return d;
  }

  test('[sig-api-machinery] Garbage collector should delete RS created by deployment when not orphaning [Conformance]', async () => {
    const ns = await namespace('gc');
    const d = await deploymentWithPods(ns, 'simpletest.deployment', 2);
    await client.delete(r('deployments'), ns, d.metadata.name, { propagationPolicy: 'Background' });
    await waitFor(
      'no ReplicaSets and no pods',
      async () => {
        const rs = (await client.list(r('replicasets'), { namespace: ns })).items;
        const pods = (await client.list(r('pods'), { namespace: ns })).items;
        return rs.length === 0 && pods.length === 0;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  });

  test('[sig-api-machinery] Garbage collector should orphan RS created by deployment when deleteOptions.PropagationPolicy is Orphan [Conformance]', async () => {
    const ns = await namespace('gc');
    const d = await deploymentWithPods(ns, 'simpletest.deployment', 2);
    await client.delete(r('deployments'), ns, d.metadata.name, { propagationPolicy: 'Orphan' });
    await waitFor(
      'the Deployment gone',
      async () =>
        client.get(r('deployments'), ns, d.metadata.name).then(
          () => false,
          () => true,
        ),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    // Upstream waits 30 s for the garbage collector to (wrongly) act; 5 s here.
    await sleep(5000);
    const rs = (await client.list(r('replicasets'), { namespace: ns })).items as any[];
    assert.equal(rs.length, 1, 'the ReplicaSet stays');
    assert.deepEqual(rs[0].metadata.ownerReferences ?? [], [], 'and is an orphan');
  });

  // ---- the long-running "should *not* be restarted" probe tests, started in before() ----

  /** agedWithoutRestart checks a pod created in before() ran at least minMs without a restart. */
  async function agedWithoutRestart(name: string, minMs: number): Promise<void> {
    const p = await waitRunningReady(probeNs, name);
    const started = Date.parse(p.status.containerStatuses[0].state.running.startedAt);
    const wait = started + minMs - Date.now();
    if (wait > 0) await sleep(wait);
    assert.equal(restarts(await getPod(probeNs, name)), 0);
  }

  // Upstream watches each for 4 minutes; here at least 20 s (twenty probe periods with failureThreshold 1).
  test('[sig-node] Probing container should *not* be restarted with a exec "cat /tmp/health" liveness probe [NodeConformance] [Conformance]', () =>
    agedWithoutRestart(LONG.exec!, 20_000));
  test('[sig-node] Probing container should *not* be restarted with a /healthz http liveness probe [NodeConformance] [Conformance]', () =>
    agedWithoutRestart(LONG.http!, 20_000));
  test('[sig-node] Probing container should *not* be restarted with a tcp:8080 liveness probe [NodeConformance] [Conformance]', () =>
    agedWithoutRestart(LONG.tcp!, 20_000));
  test('[sig-node] Probing container should *not* be restarted with a GRPC liveness probe [NodeConformance] [Conformance]', () =>
    agedWithoutRestart(LONG.grpc!, 20_000));
});

/** A grpc.health.v1 server on :5000 answering SERVING (agnhost grpc-health-checking), for the node image. */
const GRPC_HEALTH_SERVER =
  "require('http2').createServer().on('stream',(s)=>{s.resume();s.respond({':status':200,'content-type':'application/grpc'},{waitForTrailers:true});s.on('wantTrailers',()=>s.sendTrailers({'grpc-status':'0'}));s.end(Buffer.from([0,0,0,0,2,8,1]))}).listen(5000)";
