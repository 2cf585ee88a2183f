import { test } from 'node:test';
import assert from 'node:assert/strict';
import { failedSchedulingMessage, filterReason, score } from './filters.ts';
import { parseCpu, parseMemory } from '../api/quantity.ts';
import type { Node, NodeSpec, Pod, PodSpec } from 'kubernetes-types/core/v1.js';
import type { Stored } from '../api/objects.ts';

const node = (name: string, extra: { spec?: NodeSpec } = {}): Stored<Node> => ({
  metadata: {
    name,
    uid: name,
    resourceVersion: '1',
    creationTimestamp: '2026-01-01T00:00:00Z',
    labels: { disk: 'ssd' },
  },
  spec: extra.spec ?? {},
  status: { conditions: [{ type: 'Ready', status: 'True' }], allocatable: { cpu: '2', memory: '4Gi', pods: '110' } },
});
const pod = (extra: { requests?: Record<string, string>; spec?: Partial<PodSpec> } = {}): Pod => ({
  metadata: {
    name: 'p',
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs1', uid: 'rs1', controller: true }],
  },
  spec: { containers: [{ name: 'c', resources: { requests: extra.requests ?? {} } }], ...extra.spec },
});

test("filterReason() explains why a node cannot take a pod, with upstream's wording", () => {
  assert.equal(filterReason(pod(), { node: node('a'), pods: [] }), undefined);
  assert.equal(
    filterReason(pod(), {
      node: node('a', { spec: { taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] } }),
      pods: [],
    }),
    'node(s) had untolerated taint {k: v}',
  );
  assert.equal(
    filterReason(pod({ spec: { tolerations: [{ key: 'k', operator: 'Exists' }] } }), {
      node: node('a', { spec: { taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] } }),
      pods: [],
    }),
    undefined,
  );
  assert.equal(
    filterReason(pod({ spec: { nodeSelector: { disk: 'hdd' } } }), { node: node('a'), pods: [] }),
    "node(s) didn't match Pod's node affinity/selector",
  );
  assert.equal(filterReason(pod({ requests: { cpu: '3' } }), { node: node('a'), pods: [] }), 'Insufficient cpu');
  assert.equal(
    failedSchedulingMessage(2, ['Insufficient cpu', 'Insufficient cpu']),
    '0/2 nodes are available: 2 Insufficient cpu.',
  );
});

test('score() spreads replicas of one owner over nodes', () => {
  const sibling = pod();
  assert.ok(score(pod(), { node: node('a'), pods: [] }) > score(pod(), { node: node('b'), pods: [sibling] }));
});

test('quantities parse like Kubernetes quantities', () => {
  assert.equal(parseCpu('500m'), 500);
  assert.equal(parseCpu('2'), 2000);
  assert.equal(parseMemory('128Mi'), 128 * 2 ** 20);
  assert.equal(parseMemory('1G'), 1e9);
});
