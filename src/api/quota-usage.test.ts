import assert from 'node:assert/strict';
import test from 'node:test';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { formatQuota, parseQuota, usageOf } from './quota-usage.ts';

test('usageOf() counts a Service, its node ports and load balancer as upstream does', () => {
  const lb: Service = { spec: { type: 'LoadBalancer', ports: [{ port: 80 }, { port: 443 }] } };
  assert.deepEqual(usageOf('services', '', lb), {
    'count/services': 1,
    services: 1,
    'services.nodeports': 2,
    'services.loadbalancers': 1,
  });
  assert.deepEqual(usageOf('services', '', { spec: { type: 'ClusterIP' } }), { 'count/services': 1, services: 1 });
  assert.deepEqual(usageOf('deployments', 'apps', {}), { 'count/deployments.apps': 1 });
});

test("usageOf() adds a running Pod's requests (limits where a request is missing) and nothing for a finished one", () => {
  const pod: Pod = {
    spec: {
      containers: [
        { name: 'a', resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } } },
        { name: 'b', resources: { limits: { cpu: '500m' } } },
      ],
    },
  };
  assert.deepEqual(usageOf('pods', '', pod), {
    'count/pods': 1,
    pods: 1,
    'requests.cpu': 750,
    cpu: 750,
    'requests.memory': 64 * 2 ** 20,
    memory: 64 * 2 ** 20,
    'limits.cpu': 1500,
    'limits.memory': 128 * 2 ** 20,
  });
  assert.deepEqual(usageOf('pods', '', { ...pod, status: { phase: 'Succeeded' } }), {});
});

test('parseQuota() and formatQuota() read and write CPU, memory and counts', () => {
  assert.equal(parseQuota('requests.cpu', '1500m'), 1500);
  assert.equal(parseQuota('limits.memory', '1Gi'), 2 ** 30);
  assert.equal(parseQuota('pods', '10'), 10);
  assert.equal(formatQuota('cpu', 2000), '2');
  assert.equal(formatQuota('limits.cpu', 750), '750m');
  assert.equal(formatQuota('memory', 128 * 2 ** 20), '128Mi');
  assert.equal(formatQuota('count/services', 3), '3');
});
