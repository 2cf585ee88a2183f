import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { Pod, PodSpec, Service } from 'kubernetes-types/core/v1.js';
import { backends, desiredSlices, desiredSubsets, managedSliceKey, managedSlices } from './service-endpoints.ts';

function pod(
  name: string,
  ip: string,
  ready: boolean,
  extra: { metadata?: ObjectMeta } = {},
): Pod & { metadata: ObjectMeta; spec: PodSpec } {
  return {
    metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: { app: 'web' }, ...extra.metadata },
    spec: { nodeName: 'nodea', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

const service: Service = {
  metadata: { name: 'web', namespace: 'default' },
  spec: { selector: { app: 'web' }, ports: [{ name: 'web', port: 80, targetPort: 'http', protocol: 'TCP' }] },
};

test('backends() resolves named target ports per pod and reads readiness', () => {
  const list = backends(service, [pod('a', '10.0.0.2', true), pod('b', '10.0.0.3', false), { ...pod('c', '', true) }]);
  assert.deepEqual(
    list.map((b) => [b.pod.metadata?.name, b.ready, b.ports[0]?.port]),
    [
      ['a', true, 8080],
      ['b', false, 8080],
    ],
  );
});

test('desiredSubsets() splits ready and not-ready addresses; desiredSlices() keeps both with conditions', () => {
  const list = backends(service, [pod('a', '10.0.0.2', true), pod('b', '10.0.0.3', false)]);
  const [subset] = desiredSubsets(list);
  assert.deepEqual(
    subset?.addresses?.map((a) => a.ip),
    ['10.0.0.2'],
  );
  assert.deepEqual(
    subset?.notReadyAddresses?.map((a) => a.ip),
    ['10.0.0.3'],
  );
  const [slice] = desiredSlices(service, list);
  assert.deepEqual(slice!.ports, [{ name: 'web', port: 8080, protocol: 'TCP' }]);
  assert.deepEqual(
    slice!.endpoints.map((e) => [e.addresses[0], e.conditions?.ready]),
    [
      ['10.0.0.2', true],
      ['10.0.0.3', false],
    ],
  );
});

test('desiredSlices() puts at most 100 endpoints in a slice', () => {
  const pods = Array.from({ length: 250 }, (_, i) =>
    pod(`p${i}`, `10.0.${Math.floor(i / 200)}.${(i % 200) + 1}`, true),
  );
  const slices = desiredSlices(service, backends(service, pods));
  assert.deepEqual(
    slices.map((s) => s.endpoints.length),
    [100, 100, 50],
  );
});

test('a terminating pod is serving but not ready', () => {
  const [b] = backends(service, [
    pod('t', '10.0.0.9', true, { metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' } }),
  ]);
  assert.deepEqual([b!.ready, b!.serving, b!.terminating], [false, true, true]);
});

test("desiredSlices() names an endpoint by its pod's hostname only when the pod's subdomain is the Service", () => {
  const named = pod('a', '10.0.0.2', true);
  named.spec = { ...named.spec, hostname: 'web-0', subdomain: 'web' };
  const other = pod('b', '10.0.0.3', true);
  other.spec = { ...other.spec, hostname: 'web-1', subdomain: 'elsewhere' };
  const [slice] = desiredSlices(service, backends(service, [named, other]));
  assert.deepEqual(
    slice!.endpoints.map((e) => e.hostname),
    ['web-0', undefined],
  );
});

test("managedSlices() picks one controller's slices of a Service, by name; managedSliceKey() names their Service", () => {
  const slice = (name: string, namespace: string, service: string, managedBy: string) => ({
    metadata: {
      name,
      namespace,
      labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': managedBy },
    },
  });
  const ours = 'endpointslice-controller.k8s.io';
  const slices = [
    slice('web-b', 'default', 'web', ours),
    slice('web-a', 'default', 'web', ours),
    slice('web-m', 'default', 'web', 'endpointslicemirroring-controller.k8s.io'),
    slice('web-x', 'other', 'web', ours),
    slice('api-a', 'default', 'api', ours),
  ];
  assert.deepEqual(
    managedSlices(slices, 'default', 'web', ours).map((s) => s.metadata.name),
    ['web-a', 'web-b'],
  );
  assert.equal(managedSliceKey(slices[0]!, ours), 'default/web');
  assert.equal(managedSliceKey(slices[2]!, ours), undefined);
  assert.equal(managedSliceKey({ metadata: { name: 'bare' } }, ours), undefined);
});
