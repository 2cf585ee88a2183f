/** syntheticCluster makes n ClusterIP Services with e endpoints each (for proxy benchmarks). */
export function syntheticCluster(n: number, e: number): { services: any[]; endpointSlices: any[] } {
  const services: any[] = [];
  const endpointSlices: any[] = [];
  for (let i = 0; i < n; i++) {
    const name = `svc-${i}`;
    services.push({
      metadata: { name, namespace: 'bench' },
      spec: {
        type: 'ClusterIP',
        clusterIP: `10.96.${Math.floor(i / 250)}.${(i % 250) + 1}`,
        ports: [{ port: 80, protocol: 'TCP' }],
      },
    });
    endpointSlices.push({
      metadata: { name: `${name}-x`, namespace: 'bench', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ port: 8080, protocol: 'TCP' }],
      endpoints: Array.from({ length: e }, (_, j) => ({
        addresses: [`10.${100 + Math.floor(i / 2500)}.${Math.floor((i % 2500) / 10)}.${(i % 10) * 20 + j + 1}`],
        conditions: { ready: true },
        nodeName: j % 2 ? 'node1' : 'node2',
      })),
    });
  }
  return { services, endpointSlices };
}
