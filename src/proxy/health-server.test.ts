import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { Node } from 'kubernetes-types/core/v1.js';
import { silentLogger } from '../log/klog.ts';
import { FakeClock } from '../util/clock.ts';
import { type HealthSource, serveHealth } from './health-server.ts';
import { ProxyMetrics } from './metrics.ts';

test('/healthz turns 503 once a queued change waits more than 2 × syncPeriod, and while the node is going away', async () => {
  const clock = new FakeClock(1_700_000_000_000);
  let node: Node = { metadata: { name: 'node-a' } };
  const source: HealthSource = {
    queuedAt: undefined,
    lastUpdated: clock.now(),
    lastRules: '',
    node: () => node,
  };
  const metrics = new ProxyMetrics();
  const server = await serveHealth('127.0.0.1:0', source, {
    syncPeriodMs: 30_000,
    metrics,
    logger: silentLogger(),
    clock,
  });
  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  try {
    assert.equal((await get('/healthz')).status, 200);
    source.queuedAt = clock.now();
    await clock.advance(60_000);
    assert.equal((await get('/livez')).status, 200, 'exactly 2 × syncPeriod is still healthy');
    await clock.advance(1);
    const stale = await get('/healthz');
    assert.equal(stale.status, 503);
    assert.equal(stale.body.healthy, false);
    source.queuedAt = undefined;
    node = { metadata: { name: 'node-a', deletionTimestamp: '2026-12-07T00:00:00Z' } };
    const leaving = await get('/healthz');
    assert.deepEqual([leaving.status, leaving.body.healthy, leaving.body.nodeEligible], [503, true, false]);
    assert.equal((await get('/livez')).status, 200, '/livez does not look at the node');
    assert.deepEqual(metrics.healthz, { 200: 1, 503: 2 });
  } finally {
    server.close();
  }
});
