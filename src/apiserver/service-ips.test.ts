import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Service } from 'kubernetes-types/core/v1.js';
import { IPADDRESS_PREFIX, NODEPORT_PREFIX, ServiceIps } from './service-ips.ts';
import { SqliteStore } from './storage/sqlite-store.ts';

function service(name: string): Service {
  return {
    metadata: { name, namespace: 'default' },
    spec: { type: 'NodePort', ports: [{ port: 80, protocol: 'TCP' }] },
  };
}

test('allocate gives a NodePort Service a ClusterIP and a NodePort, each with its store key', async () => {
  const store = new SqliteStore(':memory:');
  const ips = new ServiceIps(store, '10.0.0.0/24', '30000-30009');
  const svc = service('web');
  await ips.allocate(svc, undefined, false);
  assert.match(svc.spec?.clusterIP ?? '', /^10\.0\.0\.\d+$/);
  const nodePort = svc.spec?.ports?.[0]?.nodePort;
  assert.ok(nodePort !== undefined && nodePort >= 30000 && nodePort <= 30009);
  assert.ok(await store.get(`${IPADDRESS_PREFIX}${svc.spec?.clusterIP}`));
  assert.ok(await store.get(`${NODEPORT_PREFIX}${nodePort}`));
});

test('repair recreates what a Service holds and removes old keys no Service holds, unreadable ones too', async () => {
  const store = new SqliteStore(':memory:');
  const ips = new ServiceIps(store, '10.0.0.0/24', '30000-30009');
  // Asked-for addresses, so a random pick never lands on the orphans below.
  const svc: Service = {
    metadata: { name: 'web', namespace: 'default' },
    spec: { type: 'NodePort', clusterIP: '10.0.0.10', ports: [{ port: 80, protocol: 'TCP', nodePort: 30000 }] },
  };
  await ips.allocate(svc, undefined, false);
  assert.equal(svc.spec?.ports?.[0]?.nodePort, 30000);
  await store.delete(`${IPADDRESS_PREFIX}${svc.spec?.clusterIP}`);
  // Orphans: an old IPAddress of a gone Service, a port key that is not JSON, and one that is JSON null.
  const old = '2020-01-01T00:00:00Z';
  await store.create(
    `${IPADDRESS_PREFIX}10.0.0.200`,
    JSON.stringify({
      metadata: { name: '10.0.0.200', creationTimestamp: old },
      spec: { parentRef: { resource: 'services', namespace: 'default', name: 'gone' } },
    }),
  );
  await store.create(`${NODEPORT_PREFIX}30008`, 'not json');
  await store.create(`${NODEPORT_PREFIX}30009`, 'null');
  assert.deepEqual(await ips.repair([svc]), { created: 1, removed: 3 });
  assert.ok(await store.get(`${IPADDRESS_PREFIX}${svc.spec?.clusterIP}`));
  assert.deepEqual(await ips.repair([svc]), { created: 0, removed: 0 });
});
