import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { applyDefaults } from './defaults.ts';

test('a Pod container with limits and no requests requests its limits (upstream SetDefaults_Pod)', () => {
  const pod: Pod = {
    metadata: { name: 'p' },
    spec: {
      initContainers: [{ name: 'i', resources: { limits: { cpu: '1' } } }],
      containers: [
        { name: 'a', resources: { limits: { cpu: '500m', memory: '64Mi' } } },
        { name: 'b', resources: { limits: { cpu: '2', memory: '1Gi' }, requests: { cpu: '100m' } } },
        { name: 'c' },
      ],
    },
  };
  applyDefaults('Pod', pod);
  const [a, b, c] = pod.spec?.containers ?? [];
  assert.deepEqual(a?.resources?.requests, { cpu: '500m', memory: '64Mi' });
  assert.deepEqual(b?.resources?.requests, { cpu: '100m', memory: '1Gi' });
  assert.deepEqual(c?.resources, {});
  assert.deepEqual(pod.spec?.initContainers?.[0]?.resources?.requests, { cpu: '1' });
});

test("a Deployment's pod template keeps its limits-only resources (the Pods get requests when they are created)", () => {
  const d: Deployment = {
    metadata: { name: 'd' },
    spec: {
      selector: { matchLabels: { app: 'd' } },
      template: { spec: { containers: [{ name: 'a', resources: { limits: { cpu: '1' } } }] } },
    },
  };
  applyDefaults('Deployment', d);
  assert.deepEqual(d.spec?.template.spec?.containers[0]?.resources, { limits: { cpu: '1' } });
  assert.equal(d.spec?.replicas, 1);
});
