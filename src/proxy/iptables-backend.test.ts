/** IptablesBackend over the in-memory iptables (testing/fake-iptables.ts; fixtures: testdata/overall.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IptablesBackend } from './iptables-backend.ts';
import { JUMP_RULES } from './jump-rules.ts';
import { IPTABLES_TEST_CONFIG, overallServicePorts } from './testdata/overall.ts';
import { FakeIptables } from './testing/fake-iptables.ts';

test('IptablesBackend over FakeIptables: full sync with jump rules, then a partial sync of one service', async () => {
  const ipt = new FakeIptables();
  const backend = new IptablesBackend(ipt, IPTABLES_TEST_CONFIG);
  const ports = overallServicePorts();
  await backend.sync(ports, new Set(), [], true);
  for (const rule of JUMP_RULES)
    assert.ok(await ipt.hasRule(rule.table, rule.from, [...rule.args, '-j', rule.to]), `${rule.from} → ${rule.to}`);
  const svcChains = (await ipt.chains('nat')).filter((c) => c.startsWith('KUBE-SVC-'));
  assert.ok(svcChains.length > 3);
  // Without svc4: its chains are flushed and deleted, everything else stays.
  const without4 = ports.filter((p) => p.serviceName !== 'svc4');
  await backend.sync(without4, new Set(), ['ns4/svc4:p80/TCP'], false);
  const after = await ipt.chains('nat');
  assert.deepEqual(
    svcChains.filter((c) => !after.includes(c)),
    ['KUBE-SVC-4SW47YFZTEDKD3PK'],
  );
  assert.ok(!after.includes('KUBE-EXT-4SW47YFZTEDKD3PK'));
  assert.doesNotMatch(ipt.save('nat'), /ns4\/svc4/);
  assert.match(ipt.save('nat'), /ns5\/svc5/);
});
