import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject, Stored } from '../../api/objects.ts';
import { printTable } from './printers.ts';
import { ingressHosts } from './workload-printers.ts';

const NOW = new Date('2026-01-01T00:10:00Z');

function stored<T extends KubeObject>(object: T): Stored<T> {
  const metadata = { uid: 'u', resourceVersion: '1', creationTimestamp: '2026-01-01T00:00:00Z', name: 'x' };
  return { ...object, metadata: { ...metadata, ...object.metadata } };
}

test('a ControllerRevision owned by a core-group kind prints kind/name, an apps one kind.group/name', () => {
  const owned = (apiVersion: string, kind: string) =>
    stored({ metadata: { name: 'r', ownerReferences: [{ apiVersion, kind, name: 'o', uid: 'x', controller: true }] } });
  const { rows } = printTable('controllerrevisions', [owned('v1', 'Pod'), owned('apps/v1', 'DaemonSet')], NOW);
  assert.deepEqual(
    rows.map((r) => r.cells[1]),
    ['pod/o', 'daemonset.apps/o'],
  );
});

test('services print type, cluster IP, ports with node ports, age and selector', () => {
  const svc = stored({
    metadata: { name: 'web' },
    spec: {
      type: 'NodePort',
      clusterIP: '10.0.0.5',
      ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }],
      selector: { app: 'web' },
    },
  });
  const { columnDefinitions, rows } = printTable('services', [svc], NOW);
  assert.equal(columnDefinitions.length, 7);
  assert.deepEqual(rows[0].cells, ['web', 'NodePort', '10.0.0.5', '<none>', '80:30080/TCP', '10m', 'app=web']);
});

test('a resource without its own printer gets Name and Age; a key like constructor is not a printer', () => {
  for (const resource of ['widgets', 'constructor']) {
    const { columnDefinitions, rows } = printTable(resource, [stored({ metadata: { name: 'w' } })], NOW);
    assert.deepEqual(
      columnDefinitions.map((c) => c.name),
      ['Name', 'Age'],
    );
    assert.deepEqual(rows[0].cells, ['w', '10m']);
  }
});

test('ingress hosts print as upstream: three at most, then how many rules follow', () => {
  const rules = (...hosts: string[]) => hosts.map((host) => (host ? { host } : {}));
  assert.equal(ingressHosts([]), '*');
  assert.equal(ingressHosts(rules('', '')), '*');
  assert.equal(ingressHosts(rules('a', '', 'b', 'c')), 'a,b,c');
  assert.equal(ingressHosts(rules('a', 'b', 'c', '')), 'a,b,c + 1 more...');
  assert.equal(ingressHosts(rules('a', '', 'b', 'c', 'd')), 'a,b,c + 2 more...');
});
