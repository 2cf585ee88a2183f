/** Rule rendering time (pure, no kernel) at 1,000 and 10,000 services × 10 endpoints. */
import { renderIptables } from '../src/proxy/render-iptables.ts';
import { buildServicePorts } from '../src/proxy/service-ports.ts';
import { syntheticCluster } from './synthetic-cluster.ts';

export async function run(): Promise<void> {
  for (const n of [1000, 10_000]) {
    const { services, endpointSlices } = syntheticCluster(n, 10);
    const t0 = performance.now();
    const servicePorts = buildServicePorts({ services, endpointSlices, nodeName: 'node1' });
    const t1 = performance.now();
    const result = renderIptables({
      servicePorts,
      clusterCIDR: '10.244.0.0/16',
      masqueradeAll: false,
      masqueradeBit: 14,
      localhostNodePorts: true,
      nodePortAddresses: [],
      nodeIPs: [],
    });
    const t2 = performance.now();
    process.stdout.write(
      `${n} services × 10 endpoints: model ${(t1 - t0).toFixed(0)} ms, render ${(t2 - t1).toFixed(0)} ms, ${result.ruleCounts.nat + result.ruleCounts.filter} rules, ${(result.text.length / 1e6).toFixed(1)} MB\n`,
    );
  }
}
