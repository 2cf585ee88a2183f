import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HostCommandError } from '../../sys/run.ts';
import { JUMP_RULES } from '../jump-rules.ts';
import { FakeIptables } from './fake-iptables.ts';

test('FakeIptables applies --noflush input: declared chains are created or flushed, others kept', async () => {
  const ipt = new FakeIptables();
  await ipt.restore('*nat\n:KUBE-A - [0:0]\n:KUBE-B - [0:0]\n-A KUBE-A -j KUBE-B\n-A KUBE-B -j RETURN\nCOMMIT\n');
  assert.deepEqual(await ipt.chains('nat'), ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING', 'KUBE-A', 'KUBE-B']);
  await ipt.restore('*nat\n:KUBE-B - [0:0]\n-A KUBE-B -m comment --comment "a b" -j ACCEPT\nCOMMIT\n');
  assert.deepEqual(ipt.rules('nat', 'KUBE-A'), ['-j KUBE-B'], 'an undeclared chain is left alone');
  assert.deepEqual(ipt.rules('nat', 'KUBE-B'), ['-m comment --comment "a b" -j ACCEPT']);
  // Deleting a chain still jumped to fails; flushing the one that jumps first makes it possible.
  await assert.rejects(ipt.restore('*nat\n:KUBE-B - [0:0]\n-X KUBE-B\nCOMMIT\n'), /Too many links/);
  await ipt.restore('*nat\n:KUBE-A - [0:0]\n:KUBE-B - [0:0]\n-X KUBE-B\nCOMMIT\n');
  assert.equal(ipt.rules('nat', 'KUBE-B'), undefined);
  assert.match(ipt.save('nat'), /^\*nat\n:PREROUTING ACCEPT \[0:0\]\n[\s\S]*:KUBE-A - \[0:0\]\nCOMMIT\n$/);
});

test('FakeIptables refuses what iptables-restore refuses, and a refused table changes nothing', async () => {
  const ipt = new FakeIptables();
  await assert.rejects(ipt.restore('*nat\n:KUBE-A - [0:0]\n-A KUBE-A -j KUBE-MISSING\nCOMMIT\n'), (error) => {
    assert.ok(error instanceof HostCommandError);
    assert.match(error.stderr, /Couldn't load target `KUBE-MISSING'[\s\S]*Error occurred at line: 3/);
    return true;
  });
  assert.deepEqual(ipt.rules('nat', 'KUBE-A'), undefined);
  await assert.rejects(ipt.restore('*nat\n-A KUBE-NOPE -j ACCEPT\nCOMMIT\n'), /No chain\/target\/match/);
  await assert.rejects(ipt.restore('*nat\n:KUBE-A - [0:0]\n'), /COMMIT expected/);
  assert.deepEqual(ipt.rules('nat', 'KUBE-A'), undefined);
  ipt.failNextRestore();
  await assert.rejects(ipt.restore('*nat\n:KUBE-A - [0:0]\nCOMMIT\n'), HostCommandError);
  await ipt.restore('*nat\n:KUBE-A - [0:0]\nCOMMIT\n');
  assert.deepEqual(ipt.rules('nat', 'KUBE-A'), [], 'only the next restore fails');
  assert.equal(ipt.restores.length, 5);
});

test('FakeIptables answers hasRule and ensureRule from its model', async () => {
  const ipt = new FakeIptables();
  const rule = JUMP_RULES.find((r) => r.table === 'nat' && r.from === 'PREROUTING')!;
  const args = [...rule.args, '-j', rule.to];
  await assert.rejects(ipt.ensureRule('nat', 'PREROUTING', args), /Couldn't load target `KUBE-SERVICES'/);
  await ipt.restore('*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n');
  assert.equal(await ipt.hasRule('nat', 'PREROUTING', args), false);
  assert.equal(await ipt.ensureRule('nat', 'PREROUTING', args), true);
  assert.equal(await ipt.ensureRule('nat', 'PREROUTING', args), false);
  assert.deepEqual(ipt.rules('nat', 'PREROUTING'), [
    '-m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  ]);
});
