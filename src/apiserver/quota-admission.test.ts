import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, ResourceQuota } from 'kubernetes-types/core/v1.js';
import { resourceByName } from '../api/resources.ts';
import { isStatusError } from '../api/status.ts';
import { quotaCharges } from './quota-admission.ts';

const PODS = resourceByName('', 'pods')!;
const pod = (name: string, cpu: string): Pod => ({
  metadata: { name },
  spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu } } }] },
});
const quota = (
  name: string,
  hard: Record<string, string>,
  used: Record<string, string> | undefined,
): ResourceQuota => ({
  metadata: { name, namespace: 'q' },
  spec: { hard },
  status: used ? { hard, used } : {},
});

test('quotaCharges charges the quotas that limit the object and leaves the others out', () => {
  const charged = quotaCharges(PODS, pod('a', '250m'), [
    quota('count', { pods: '2' }, { pods: '1' }),
    quota('cpu', { 'requests.cpu': '1' }, { 'requests.cpu': '500m' }),
    quota('services', { services: '1' }, { services: '0' }),
  ]);
  assert.deepEqual(
    charged.map((q) => [q.metadata?.name, q.status?.used]),
    [
      ['count', { pods: '2' }],
      ['cpu', { 'requests.cpu': '750m' }],
    ],
  );
  assert.deepEqual(quotaCharges(PODS, pod('a', '1'), []), []);
});

test("quotaCharges refuses with upstream's 403 when a quota is full or its usage is not known yet", () => {
  assert.throws(
    () => quotaCharges(PODS, pod('big', '2'), [quota('q', { 'requests.cpu': '1' }, { 'requests.cpu': '250m' })]),
    (e: unknown) =>
      isStatusError(e, 403) &&
      e.message ===
        'pods "big" is forbidden: exceeded quota: q, requested: requests.cpu=2, used: requests.cpu=250m, limited: requests.cpu=1',
  );
  assert.throws(
    () => quotaCharges(PODS, pod('a', '1'), [quota('new', { pods: '5' }, undefined)]),
    (e: unknown) =>
      isStatusError(e, 403) && e.message === 'pods "a" is forbidden: status unknown for quota: new, resource: pods',
  );
});
