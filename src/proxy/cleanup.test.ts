import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../log/klog.ts';
import { removeIptablesRules } from './cleanup.ts';
import { IptablesBackend } from './iptables-backend.ts';
import { IPTABLES_TEST_CONFIG, overallServicePorts } from './testdata/overall.ts';
import { FakeIptables } from './testing/fake-iptables.ts';

test("removeIptablesRules takes out kube-proxy's jumps and chains and leaves everything else", async () => {
  const ipt = new FakeIptables();
  await ipt.restore(
    '*nat\n:DOCKER - [0:0]\n-A DOCKER -j RETURN\n-A POSTROUTING -s 172.17.0.0/16 -j MASQUERADE\nCOMMIT\n' +
      '*filter\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n',
  );
  const before = { nat: ipt.save('nat'), filter: ipt.save('filter') };
  const backend = new IptablesBackend(ipt, IPTABLES_TEST_CONFIG);
  const ports = overallServicePorts();
  await backend.sync(ports, new Set(), [], true);
  assert.notEqual(ipt.save('nat'), before.nat);
  await removeIptablesRules(ipt, silentLogger());
  assert.equal(ipt.save('nat'), before.nat);
  assert.equal(ipt.save('filter'), before.filter);
  const restores = ipt.restores.length;
  await removeIptablesRules(ipt, silentLogger());
  assert.equal(ipt.restores.length, restores, 'nothing left: no restore');
});
