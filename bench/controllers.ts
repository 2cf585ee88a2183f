/**
 * Controller figures: a Service selecting 1,000 ready pods → its complete EndpointSlices; a Deployment of 1,000
 * replicas → every pod bound, across 10 nodes (no kubelets: nodes are registered Ready by the benchmark).
 */
import { startApiServer } from '../test/support/apiserver.ts';
import { TSKUBE, startProcess } from '../test/support/processes.ts';
import { sleep } from '../src/util/wait.ts';
import type { Resource } from '../src/client/client.ts';

export async function run(): Promise<void> {
  const server = await startApiServer({ serviceClusterIpRange: '10.0.0.0/16' });
  const cm = startProcess([TSKUBE, 'controller-manager', `--kubeconfig=${server.kubeconfig}`, '--leader-elect=false']);
  const scheduler = startProcess([TSKUBE, 'scheduler', `--kubeconfig=${server.kubeconfig}`, '--leader-elect=false']);
  const r = (n: string) => server.client.resource(n) as Resource<any>;
  try {
    // 1,000 ready pods (written directly, bound and Ready), then the Service.
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < 1000) {
          const i = next++;
          const pod = await server.client.create(r('pods'), 'default', {
            metadata: { name: `web-${i}`, labels: { app: 'web' } },
            spec: {
              nodeName: `n${i % 10}`,
              containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }] }],
            },
          });
          await server.client.update(
            r('pods'),
            {
              ...pod,
              status: {
                phase: 'Running',
                podIP: `10.200.${Math.floor(i / 250)}.${(i % 250) + 1}`,
                conditions: [{ type: 'Ready', status: 'True' }],
              },
            },
            { subresource: 'status' },
          );
        }
      }),
    );
    const t0 = performance.now();
    await server.client.create(r('services'), 'default', {
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
    });
    for (;;) {
      const slices = (
        await server.client.list(r('endpointslices'), {
          namespace: 'default',
          labelSelector: 'kubernetes.io/service-name=web',
        })
      ).items;
      if (slices.reduce((n: number, s: any) => n + (s.endpoints?.length ?? 0), 0) === 1000) {
        process.stdout.write(
          `Service selecting 1,000 ready pods → complete EndpointSlices (${slices.length} slices): ${(performance.now() - t0).toFixed(0)} ms\n`,
        );
        break;
      }
      await sleep(20);
    }
    for (let i = 0; i < 10; i++) {
      await server.client.create(r('nodes'), undefined, {
        metadata: { name: `n${i}` },
        status: {
          conditions: [{ type: 'Ready', status: 'True' }],
          allocatable: { cpu: '64', memory: '256Gi', pods: '500' },
        },
      });
    }
    const t1 = performance.now();
    await server.client.create(r('deployments'), 'default', {
      metadata: { name: 'big' },
      spec: {
        replicas: 1000,
        selector: { matchLabels: { app: 'big' } },
        template: { metadata: { labels: { app: 'big' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      },
    });
    for (;;) {
      const pods = (await server.client.list(r('pods'), { namespace: 'default', labelSelector: 'app=big' }))
        .items as any[];
      if (pods.length === 1000 && pods.every((p) => p.spec.nodeName)) {
        const perNode = new Map<string, number>();
        for (const p of pods) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
        process.stdout.write(
          `Deployment of 1,000 replicas → all pods bound across 10 nodes: ${((performance.now() - t1) / 1000).toFixed(1)} s (per node ${Math.min(...perNode.values())}–${Math.max(...perNode.values())})\n`,
        );
        break;
      }
      await sleep(100);
    }
  } finally {
    await cm.stop();
    await scheduler.stop();
    await server.stop();
  }
}
