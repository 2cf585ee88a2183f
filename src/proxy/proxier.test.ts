/**
 * The sync loop without an API server or root: Services, EndpointSlices and the Node are handed to the Proxier's
 * handlers as the informers would, the host is the in-memory fakes (testing/), time is a FakeClock.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Node, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import { silentLogger } from '../log/klog.ts';
import { FakeClock } from '../util/clock.ts';
import { IptablesBackend } from './iptables-backend.ts';
import { ProxyMetrics } from './metrics.ts';
import { NftablesBackend } from './nftables-backend.ts';
import { FULL_SYNC_PERIOD_MS, Proxier } from './proxier.ts';
import { FakeConntrack } from './testing/fake-conntrack.ts';
import { FakeIptables } from './testing/fake-iptables.ts';
import { FakeNft } from './testing/fake-nft.ts';

const NODE = 'node-a';
type Protocol = 'TCP' | 'UDP';

function service(name: string, clusterIP: string, protocol: Protocol = 'TCP', resourceVersion = '1'): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: 'ns1', name, resourceVersion },
    spec: { type: 'ClusterIP', clusterIP, clusterIPs: [clusterIP], ports: [{ name: 'p', port: 53, protocol }] },
  };
}

function slice(name: string, ips: string[], protocol: Protocol = 'TCP', resourceVersion = '1'): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      namespace: 'ns1',
      name: `${name}-abc`,
      resourceVersion,
      labels: { 'kubernetes.io/service-name': name },
    },
    addressType: 'IPv4',
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    ports: [{ name: 'p', port: 5353, protocol }],
  };
}

function node(heartbeat: string, resourceVersion: string): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: NODE, resourceVersion, labels: { 'kubernetes.io/hostname': NODE } },
    status: { conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: heartbeat }] },
  };
}

/** harness builds a Proxier over the fakes; start() hands it the initial lists and runs the first sync. */
function harness(mode: 'iptables' | 'nftables' = 'iptables') {
  const clock = new FakeClock();
  const iptables = new FakeIptables();
  const nft = new FakeNft();
  const conntrack = new FakeConntrack();
  const metrics = new ProxyMetrics();
  const render = {
    clusterCIDR: '10.0.0.0/8',
    masqueradeAll: false,
    masqueradeBit: 14,
    nodePortAddresses: [],
    nodeIPs: [],
  };
  const backend =
    mode === 'iptables'
      ? new IptablesBackend(iptables, { ...render, localhostNodePorts: true })
      : new NftablesBackend(nft, render, clock);
  const proxier = new Proxier({
    backend,
    conntrack,
    clock,
    nodeName: NODE,
    logger: silentLogger(),
    metrics,
    syncPeriodMs: 30_000,
    minSyncPeriodMs: 1000,
  });
  const start = async (services: Service[], slices: EndpointSlice[]) => {
    for (const s of services) proxier.onServiceAdd(s);
    for (const s of slices) proxier.onEndpointSliceAdd(s);
    proxier.onServicesSynced();
    proxier.onEndpointSlicesSynced();
    await clock.advance(0);
  };
  return { clock, iptables, nft, conntrack, metrics, proxier, start };
}

/** serviceChain finds the KUBE-SVC chain of a service port in iptables-restore input. */
function serviceChain(text: string, port: string): string {
  const m = new RegExp(`--comment "${port} cluster IP" .*-j (KUBE-SVC-\\w+)`).exec(text);
  assert.ok(m, `no cluster IP rule for ${port}`);
  return m[1]!;
}

/** endpointJumps counts a service chain's jumps to endpoint chains. */
function endpointJumps(iptables: FakeIptables, chain: string): number {
  return (iptables.rules('nat', chain) ?? []).filter((r) => r.includes('-j KUBE-SEP-')).length;
}

test('Proxier: no sync before both first lists are in; the first sync is full, with the jump rules', async () => {
  const h = harness();
  h.proxier.onServiceAdd(service('a', '10.96.0.10'));
  h.proxier.onServicesSynced();
  await h.clock.advance(5000);
  assert.equal(h.iptables.restores.length, 0);
  h.proxier.onEndpointSliceAdd(slice('a', ['10.1.0.1']));
  h.proxier.onEndpointSlicesSynced();
  await h.clock.advance(0);
  assert.equal(h.iptables.restores.length, 1);
  assert.equal(h.metrics.fullSyncDuration.count, 1);
  const chain = serviceChain(h.iptables.restores[0]!, 'ns1/a:p');
  assert.equal(endpointJumps(h.iptables, chain), 1);
  assert.deepEqual(h.iptables.rules('nat', 'PREROUTING'), [
    '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  ]);
  assert.equal(h.proxier.queuedAt, undefined);
  assert.equal(h.proxier.lastUpdated, h.clock.now());
  h.proxier.stop();
});

test('Proxier: a change is a partial sync that rewrites only that service chains', async () => {
  const h = harness();
  await h.start(
    [service('a', '10.96.0.10'), service('b', '10.96.0.11')],
    [slice('a', ['10.1.0.1']), slice('b', ['10.1.0.2'])],
  );
  const first = h.iptables.restores[0]!;
  const [a, b] = [serviceChain(first, 'ns1/a:p'), serviceChain(first, 'ns1/b:p')];
  const bRules = h.iptables.rules('nat', b);
  h.proxier.onEndpointSliceUpdate(slice('a', ['10.1.0.1']), slice('a', ['10.1.0.1', '10.1.0.3'], 'TCP', '2'));
  await h.clock.advance(0);
  assert.equal(h.iptables.restores.length, 2, 'applied at once (burst of 2)');
  const partial = h.iptables.restores[1]!;
  assert.match(partial, new RegExp(`^:${a} `, 'm'));
  assert.doesNotMatch(partial, new RegExp(`^:${b} `, 'm'), "b's chain is not rewritten");
  assert.equal(endpointJumps(h.iptables, a), 2, 'a now has two endpoints');
  assert.deepEqual(h.iptables.rules('nat', b), bRules);
  assert.equal(h.metrics.partialSyncDuration.count, 1);
  assert.equal(h.metrics.endpointChanges, 3);
  h.proxier.stop();
});

test('Proxier: an event that changes nothing writes nothing and spends no budget', async () => {
  const h = harness();
  await h.start([service('a', '10.96.0.10')], [slice('a', ['10.1.0.1'])]);
  for (let rv = 2; rv < 8; rv++) {
    h.proxier.onServiceUpdate(service('a', '10.96.0.10'), service('a', '10.96.0.10', 'TCP', String(rv)));
    await h.clock.advance(1);
  }
  assert.equal(h.iptables.restores.length, 1);
  assert.equal(h.metrics.syncDuration.count, 1);
  // The budget still holds the second token of the burst: a real change goes at once.
  h.proxier.onEndpointSliceUpdate(slice('a', ['10.1.0.1']), slice('a', ['10.1.0.2'], 'TCP', '2'));
  await h.clock.advance(0);
  assert.equal(h.iptables.restores.length, 2);
  // The third within a second waits for minSyncPeriod.
  h.proxier.onEndpointSliceUpdate(slice('a', ['10.1.0.2']), slice('a', ['10.1.0.3'], 'TCP', '3'));
  await h.clock.advance(900);
  assert.equal(h.iptables.restores.length, 2);
  await h.clock.advance(200);
  assert.equal(h.iptables.restores.length, 3);
  h.proxier.stop();
});

test('Proxier: after a failed restore the next sync is full, and the failure metrics count it', async () => {
  const h = harness();
  await h.start(
    [service('a', '10.96.0.10'), service('b', '10.96.0.11')],
    [slice('a', ['10.1.0.1']), slice('b', ['10.1.0.2'])],
  );
  const b = serviceChain(h.iptables.restores[0]!, 'ns1/b:p');
  h.iptables.failNextRestore();
  h.proxier.onEndpointSliceUpdate(slice('a', ['10.1.0.1']), slice('a', ['10.1.0.3'], 'TCP', '2'));
  await h.clock.advance(0);
  assert.equal(h.metrics.restoreFailures, 1);
  assert.equal(h.metrics.partialRestoreFailures, 1);
  assert.notEqual(h.proxier.queuedAt, undefined, 'the change is still queued (for /healthz)');
  await h.clock.advance(1000);
  assert.equal(h.iptables.restores.length, 3, 'retried a second later');
  assert.match(h.iptables.restores[2]!, new RegExp(`^:${b} `, 'm'), 'the retry rewrites every chain');
  assert.equal(h.metrics.fullSyncDuration.count, 2);
  assert.equal(h.metrics.restoreFailures, 1);
  assert.equal(h.proxier.queuedAt, undefined);
  assert.match(h.iptables.save('nat'), /10\.1\.0\.3/);
  h.proxier.stop();
});

test('Proxier: a full sync every hour, the periodic syncs in between write nothing', async () => {
  const h = harness();
  await h.start([service('a', '10.96.0.10')], [slice('a', ['10.1.0.1'])]);
  await h.clock.advance(FULL_SYNC_PERIOD_MS - 1000);
  assert.equal(h.iptables.restores.length, 1);
  await h.clock.advance(31_000);
  assert.equal(h.iptables.restores.length, 2);
  assert.equal(h.metrics.fullSyncDuration.count, 2);
  assert.equal(h.metrics.partialSyncDuration.count, 0);
  h.proxier.stop();
});

test('Proxier: a UDP endpoint removed clears the conntrack entries DNATed to it', async () => {
  const h = harness();
  await h.start([service('dns', '10.96.0.53', 'UDP')], [slice('dns', ['10.1.0.1', '10.1.0.2'], 'UDP')]);
  h.conntrack.entries = [
    { protocol: 'UDP', origDst: '10.96.0.53', dport: 53, dstNat: '10.1.0.1' },
    { protocol: 'UDP', origDst: '10.96.0.53', dport: 53, dstNat: '10.1.0.2' },
    { protocol: 'TCP', origDst: '10.96.0.53', dport: 53, dstNat: '10.1.0.1' },
  ];
  h.proxier.onEndpointSliceUpdate(
    slice('dns', ['10.1.0.1', '10.1.0.2'], 'UDP'),
    slice('dns', ['10.1.0.2'], 'UDP', '2'),
  );
  await h.clock.advance(0);
  assert.deepEqual(h.conntrack.cleared, [{ origDst: '10.96.0.53', dstNat: '10.1.0.1' }]);
  assert.deepEqual(
    h.conntrack.entries.map((e) => `${e.protocol} ${e.dstNat}`),
    ['UDP 10.1.0.2', 'TCP 10.1.0.1'],
  );
  h.proxier.stop();
});

test('Proxier, nftables: the deferred deletion of stale chains gets its own sync', async () => {
  const h = harness('nftables');
  await h.start(
    [service('a', '10.96.0.10'), service('b', '10.96.0.11')],
    [slice('a', ['10.1.0.1']), slice('b', ['10.1.0.2'])],
  );
  const chainsOfA = () => h.nft.chains('ip', 'kube-proxy').filter((c) => c.includes('ns1/a/'));
  const [chain] = chainsOfA();
  assert.ok(chain);
  h.proxier.onServiceDelete(service('a', '10.96.0.10'));
  h.proxier.onEndpointSliceDelete(slice('a', ['10.1.0.1']));
  await h.clock.advance(0);
  assert.equal(h.nft.scripts.length, 2);
  assert.deepEqual(h.nft.rules('ip', 'kube-proxy', chain), [], 'flushed, deleted later');
  await h.clock.advance(1010);
  assert.equal(h.nft.scripts.length, 3);
  assert.match(h.nft.scripts[2]!, /^delete chain ip kube-proxy /m);
  assert.deepEqual(chainsOfA(), []);
  await h.clock.advance(20_000);
  assert.equal(h.nft.scripts.length, 3, 'nothing more to do');
  h.proxier.stop();
});

test("Proxier: this Node's status heartbeat every 10 s writes nothing and rebuilds nothing", async () => {
  const h = harness();
  await h.start([service('a', '10.96.0.10')], [slice('a', ['10.1.0.1'])]);
  let previous = node('2026-12-07T00:00:00Z', '100');
  h.proxier.onNodeAdd(previous);
  for (let i = 1; i <= 12; i++) {
    const next = node(`2026-12-07T00:00:${String(i * 10).padStart(2, '0')}Z`, String(100 + i));
    h.proxier.onNodeUpdate(previous, next);
    previous = next;
    assert.equal(h.proxier.queuedAt, undefined, 'no sync is even asked for');
    await h.clock.advance(10_000);
  }
  assert.equal(h.iptables.restores.length, 1);
  assert.equal(h.metrics.syncDuration.count, 1);
  assert.equal(h.metrics.fullSyncDuration.count, 1);
  assert.equal(h.proxier.node()?.metadata?.resourceVersion, '112');
  h.proxier.stop();
});
