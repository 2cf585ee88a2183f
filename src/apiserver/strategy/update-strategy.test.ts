import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Service, ServiceSpec } from 'kubernetes-types/core/v1.js';
import type { Decoded } from '../per-kind.ts';
import { dropServiceTypeDependentFields, prepareForUpdate, prepareStatusUpdate } from './update-strategy.ts';

const clusterIP = (): Decoded<Service> & { spec: Decoded<ServiceSpec> } => ({
  spec: {
    type: 'ClusterIP',
    clusterIP: '10.0.0.7',
    clusterIPs: ['10.0.0.7'],
    ipFamilies: ['IPv4'],
    ipFamilyPolicy: 'SingleStack',
    internalTrafficPolicy: 'Cluster',
    ports: [{ port: 80 }],
  },
});

test('dropServiceTypeDependentFields() clears an unchanged clusterIP, families and policies when switching to ExternalName', () => {
  const svc = clusterIP();
  svc.spec.type = 'ExternalName';
  svc.spec.externalName = 'example.com';
  dropServiceTypeDependentFields(svc, clusterIP());
  assert.deepEqual(svc.spec, { type: 'ExternalName', externalName: 'example.com', ports: [{ port: 80 }] });
});

test('dropServiceTypeDependentFields() keeps a clusterIP the client changed (validation then rejects it)', () => {
  const svc = clusterIP();
  svc.spec.type = 'ExternalName';
  svc.spec.clusterIP = '10.0.0.9';
  dropServiceTypeDependentFields(svc, clusterIP());
  assert.equal(svc.spec.clusterIP, '10.0.0.9');
});

test('dropServiceTypeDependentFields() clears unchanged nodePorts and externalTrafficPolicy from NodePort to ClusterIP', () => {
  const old = { spec: { type: 'NodePort', externalTrafficPolicy: 'Cluster', ports: [{ port: 80, nodePort: 30080 }] } };
  const svc = structuredClone(old);
  svc.spec.type = 'ClusterIP';
  dropServiceTypeDependentFields(svc, old);
  assert.deepEqual(svc.spec, { type: 'ClusterIP', ports: [{ port: 80 }] });
});

test("prepareStatusUpdate() keeps the stored spec and the request's labels, annotations and status", () => {
  const old = {
    kind: 'Service',
    metadata: { name: 's', labels: { a: '1' } },
    spec: { type: 'ClusterIP' },
    status: { loadBalancer: {} },
  };
  const body = {
    metadata: { name: 's', labels: { a: '1', b: '2' }, annotations: { patchedstatus: 'true' } },
    spec: { type: 'NodePort' },
    status: { loadBalancer: { ingress: [{ ip: '203.0.113.1' }] } },
  };
  assert.deepEqual(prepareStatusUpdate(body, old), {
    metadata: body.metadata,
    spec: { type: 'ClusterIP' },
    status: body.status,
  });
});

test('prepareForUpdate() drops type-dependent fields for Services only', () => {
  const svc = clusterIP();
  svc.spec.type = 'ExternalName';
  prepareForUpdate('Service', svc, clusterIP());
  assert.equal(svc.spec.clusterIP, undefined);
  const other = { kind: 'Widget', spec: { type: 'ExternalName', clusterIP: '10.0.0.7' } };
  const otherOld = { kind: 'Widget', spec: { type: 'ClusterIP', clusterIP: '10.0.0.7' } };
  prepareForUpdate('Widget', other, otherOld);
  assert.equal(other.spec.clusterIP, '10.0.0.7');
});
