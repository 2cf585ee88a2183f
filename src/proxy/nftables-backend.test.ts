/** NftablesBackend over the in-memory nft (testing/fake-nft.ts; fixtures: testdata/overall.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostCommandError } from '../sys/run.ts';
import { FakeClock } from '../util/clock.ts';
import { NftablesBackend } from './nftables-backend.ts';
import { NFTABLES_TEST_CONFIG, overallServicePorts, overallServices } from './testdata/overall.ts';
import { FakeNft } from './testing/fake-nft.ts';

const ports = overallServicePorts;

test('NftablesBackend replaces the table first, then sends differences, and replaces again after a failure', async () => {
  const nft = new FakeNft();
  const clock = new FakeClock(0);
  const backend = new NftablesBackend(nft, NFTABLES_TEST_CONFIG, clock);
  const first = await backend.sync(ports(), new Set(), [], false);
  assert.match(nft.scripts[0]!, /^add table ip kube-proxy\ndelete table ip kube-proxy\n/);
  assert.equal(first.rulesWritten.nat, first.ruleCounts.nat);
  await backend.sync(ports(), new Set(), [], false);
  assert.equal(nft.scripts.length, 1, 'nothing changed: no transaction');

  const without6 = ports(overallServices().filter((s) => s.metadata.name !== 'svc6'));
  nft.failNext();
  await assert.rejects(backend.sync(without6, new Set(), ['ns6/svc6:p80/TCP'], false), HostCommandError);
  assert.equal(backend.rules(), '', 'after a failure the model is not trusted');
  await backend.sync(without6, new Set(), [], false);
  assert.match(
    nft.scripts.at(-1)!,
    /^add table ip kube-proxy\ndelete table ip kube-proxy\n/,
    'the next sync replaces the table',
  );
  assert.doesNotMatch(nft.scripts.at(-1)!, /172\.30\.0\.46/);

  // Removing svc5 leaves chains to delete a second later: the backend asks for a sync then.
  await backend.sync(
    ports(overallServices().filter((s) => !['svc5', 'svc6'].includes(s.metadata.name))),
    new Set(),
    ['ns5/svc5:p80/TCP'],
    false,
  );
  assert.equal(backend.pendingAfterMs(), 1010);
  await clock.advance(1000);
  await backend.sync(
    ports(overallServices().filter((s) => !['svc5', 'svc6'].includes(s.metadata.name))),
    new Set(),
    [],
    false,
  );
  assert.match(nft.scripts.at(-1)!, /^delete chain ip kube-proxy service-HVFWP5L3-ns5\/svc5\/tcp\/p80$/m);
  assert.equal(backend.pendingAfterMs(), undefined);
  // Every script was one the kernel takes (the fake refuses what nft would): the table holds what the model says.
  assert.deepEqual(
    nft.chains('ip', 'kube-proxy').filter((c) => /ns[56]\//.test(c)),
    [],
  );
  assert.ok(nft.chains('ip', 'kube-proxy').some((c) => c.includes('ns1/svc1')));
});
