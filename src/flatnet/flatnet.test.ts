import assert from 'node:assert/strict';
import test from 'node:test';
import type { Node } from 'kubernetes-types/core/v1.js';
import type { Stored } from '../api/objects.ts';
import { silentLogger } from '../log/klog.ts';
import { FLATNET_CHAIN, desiredNetwork } from './desired-network.ts';
import { FlatnetApplier, type FlatnetHost, type FlatnetRoute, ROUTE_PROTOCOL } from './flatnet.ts';

/** FakeFlatnetHost keeps the routes of flatnet's protocol and the iptables input as `ip` and iptables would. */
class FakeFlatnetHost implements FlatnetHost {
  table = new Map<string, string>();
  restored: string[] = [];
  forward = new Set<string>();
  batches = 0;

  async routes(): Promise<FlatnetRoute[]> {
    return [...this.table].map(([dst, gateway]) => ({ dst, gateway }));
  }

  async changeRoutes(commands: readonly string[]): Promise<void> {
    this.batches++;
    for (const c of commands) {
      const replace = new RegExp(`^replace (\\S+) via (\\S+) proto ${ROUTE_PROTOCOL}$`).exec(c);
      const del = new RegExp(`^del (\\S+) proto ${ROUTE_PROTOCOL}$`).exec(c);
      if (replace) this.table.set(replace[1]!, replace[2]!);
      else if (del && this.table.delete(del[1]!)) continue;
      else throw new Error(`RTNETLINK answers: No such process (${c})`);
    }
  }

  iptables = {
    restore: async (text: string) => {
      this.restored.push(text);
    },
    ensureRule: async (table: string, chain: string, args: readonly string[]) => {
      const rule = `${table} ${chain} ${args.join(' ')}`;
      if (this.forward.has(rule)) return false;
      this.forward.add(rule);
      return true;
    },
  };
}

function node(name: string, cidr: string | undefined, ip: string): Stored<Node> {
  return {
    metadata: { name, uid: name, resourceVersion: '1', creationTimestamp: '2026-12-07T00:00:00Z' },
    spec: cidr ? { podCIDR: cidr } : {},
    status: { addresses: [{ type: 'InternalIP', address: ip }] },
  };
}

test('FlatnetApplier routes to the other nodes, opens FORWARD for its own CIDR, and changes only what differs', async () => {
  const host = new FakeFlatnetHost();
  const applier = new FlatnetApplier({ host, logger: silentLogger() });
  const nodes = [node('a', '10.244.0.0/24', '192.168.1.10'), node('b', '10.244.1.0/24', '192.168.1.11')];
  assert.deepEqual(await applier.apply(desiredNetwork(nodes, 'a')), [
    'replace 10.244.1.0/24 via 192.168.1.11 proto 44',
  ]);
  assert.deepEqual([...host.table], [['10.244.1.0/24', '192.168.1.11']]);
  assert.equal(host.restored.length, 1);
  assert.match(host.restored[0]!, /-d 10\.244\.0\.0\/24 -j ACCEPT/);
  assert.deepEqual(
    [...host.forward],
    [`filter FORWARD -m comment --comment tskube flat pod network -j ${FLATNET_CHAIN}`],
  );

  // The same Nodes again: nothing to do, not even a restore.
  assert.deepEqual(await applier.apply(desiredNetwork(nodes, 'a')), []);
  assert.equal(host.batches, 1);
  assert.equal(host.restored.length, 1);

  // b moves, c comes, then b goes: replace, add, delete.
  const moved = [nodes[0]!, node('b', '10.244.1.0/24', '192.168.1.21'), node('c', '10.244.2.0/24', '192.168.1.12')];
  assert.deepEqual(await applier.apply(desiredNetwork(moved, 'a')), [
    'replace 10.244.1.0/24 via 192.168.1.21 proto 44',
    'replace 10.244.2.0/24 via 192.168.1.12 proto 44',
  ]);
  assert.deepEqual(await applier.apply(desiredNetwork([moved[0]!, moved[2]!], 'a')), ['del 10.244.1.0/24 proto 44']);
  assert.deepEqual([...host.table], [['10.244.2.0/24', '192.168.1.12']]);
  assert.equal(host.restored.length, 1, 'its own CIDR did not change');
});

test('FlatnetApplier after a restart finds its routes and removes the ones no Node wants', async () => {
  const host = new FakeFlatnetHost();
  host.table.set('10.244.9.0/24', '192.168.1.99');
  const applier = new FlatnetApplier({ host, logger: silentLogger() });
  assert.deepEqual(await applier.apply(desiredNetwork([node('a', undefined, '192.168.1.10')], 'a')), [
    'del 10.244.9.0/24 proto 44',
  ]);
  assert.equal(host.table.size, 0);
  assert.doesNotMatch(host.restored[0]!, /ACCEPT/, 'no pod CIDR yet: an empty chain');
});

test('FlatnetApplier with dryRun reads the routes and prints the commands instead of running them', async () => {
  const host = new FakeFlatnetHost();
  host.table.set('10.244.9.0/24', '192.168.1.99');
  let printed = '';
  const applier = new FlatnetApplier({ host, logger: silentLogger(), dryRun: true, print: (t) => (printed += t) });
  const nodes = [node('a', '10.244.0.0/24', '192.168.1.10'), node('b', '10.244.1.0/24', '192.168.1.11')];
  await applier.apply(desiredNetwork(nodes, 'a'));
  assert.match(
    printed,
    /^ip route replace 10\.244\.1\.0\/24 via 192\.168\.1\.11 proto 44\nip route del 10\.244\.9\.0\/24/,
  );
  assert.match(printed, /iptables-restore --noflush <<EOF\n\*filter\n/);
  assert.match(printed, new RegExp(`iptables -I FORWARD -j ${FLATNET_CHAIN}\\n$`));
  assert.equal(host.batches, 0);
  assert.deepEqual(host.restored, []);
  assert.equal(host.table.size, 1);
});
