import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { resourceByName } from '../api/resources.ts';
import { isStatusError } from '../api/status.ts';
import { Registry } from './registry.ts';
import { ServiceIps } from './service-ips.ts';
import { SqliteStore } from './storage/sqlite-store.ts';

const PODS = resourceByName('', 'pods')!;
const NAMESPACES = resourceByName('', 'namespaces')!;

/** registry is a Registry over an in-memory SQLite store with the default namespace. */
async function registry(): Promise<Registry> {
  const store = new SqliteStore(':memory:');
  const r = new Registry(store, new ServiceIps(store, '10.0.0.0/24', '30000-32767'));
  await r.create(NAMESPACES, undefined, { metadata: { name: 'default' } }, { dryRun: false });
  return r;
}

const pod = (name: string): Pod => ({ metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
const binding = (name: string, node: string) => ({ metadata: { name }, target: { kind: 'Node', name: node } });

test('Registry.bind sets the node and makes PodScheduled True in place of an earlier condition', async () => {
  const r = await registry();
  const created = await r.create(PODS, 'default', { ...pod('p') }, { dryRun: false });
  await r.update(
    PODS,
    'default',
    'p',
    {
      ...created,
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] },
    },
    { dryRun: false, subresource: 'status' },
  );
  const bound = await r.bind('default', 'p', binding('p', 'node-a'), { dryRun: false });
  const stored = await r.getPod('default', 'p');
  assert.equal(stored.spec?.nodeName, 'node-a');
  assert.equal(stored.metadata.resourceVersion, bound.metadata.resourceVersion);
  const conditions = stored.status?.conditions ?? [];
  assert.deepEqual(
    conditions.map((c) => [c.type, c.status, c.reason]),
    [['PodScheduled', 'True', undefined]],
  );
  assert.ok(conditions[0]?.lastTransitionTime);
});

test('Registry.bind: of two binds at once, one wins and the other is 409 with the winning node', async () => {
  const r = await registry();
  await r.create(PODS, 'default', { ...pod('race') }, { dryRun: false });
  const results = await Promise.allSettled([
    r.bind('default', 'race', binding('race', 'node-a'), { dryRun: false }),
    r.bind('default', 'race', binding('race', 'node-b'), { dryRun: false }),
  ]);
  const won = results.filter((x) => x.status === 'fulfilled');
  const lost = results.flatMap((x) => (x.status === 'rejected' ? [x.reason] : []));
  assert.equal(won.length, 1);
  assert.equal(lost.length, 1);
  const node = (await r.getPod('default', 'race')).spec?.nodeName;
  assert.ok(
    isStatusError(lost[0], 409) &&
      lost[0].message ===
        `Operation cannot be fulfilled on pods/binding "race": pod race is already assigned to node "${node}"`,
  );
});

test('Registry.bind with dryRun checks everything and writes nothing', async () => {
  const r = await registry();
  const created = await r.create(PODS, 'default', { ...pod('dry') }, { dryRun: false });
  const answer = await r.bind('default', 'dry', binding('dry', 'node-a'), { dryRun: true });
  assert.equal(answer.spec?.nodeName, 'node-a');
  const stored = await r.getPod('default', 'dry');
  assert.equal(stored.spec?.nodeName, undefined);
  assert.equal(stored.metadata.resourceVersion, created.metadata.resourceVersion);
  await assert.rejects(r.bind('default', 'dry', binding('dry', ''), { dryRun: true }), (e: unknown) =>
    isStatusError(e, 422),
  );
});
