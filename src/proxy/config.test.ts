import assert from 'node:assert/strict';
import test from 'node:test';
import { ConfigError, configDocument, defaultConfigDocument, parseConfigDocument } from './config.ts';

test("the default KubeProxyConfiguration reads back with both modes' periods", () => {
  const config = parseConfigDocument(defaultConfigDocument());
  assert.equal(config.mode, 'iptables');
  assert.deepEqual(config.iptables, {
    masqueradeAll: false,
    masqueradeBit: 14,
    syncPeriodMs: 30_000,
    minSyncPeriodMs: 1000,
    localhostNodePorts: true,
  });
  assert.deepEqual(config.nftables, {
    masqueradeAll: false,
    masqueradeBit: 14,
    syncPeriodMs: 30_000,
    minSyncPeriodMs: 1000,
  });
  assert.equal(configDocument(config).nftables.syncPeriod, '30s');
});

test('each mode section is checked with its own field paths', () => {
  const doc = defaultConfigDocument();
  doc.iptables.masqueradeBit = 40;
  doc.nftables.syncPeriod = '0s';
  doc.nftables.minSyncPeriod = 'soon';
  assert.throws(
    () => parseConfigDocument(doc),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.message.split('\n'), [
        'KubeProxyConfiguration.iptables.masqueradeBit: Invalid value: 40: must be within the range [0, 31]',
        'KubeProxyConfiguration.nftables.minSyncPeriod: Invalid value: "soon": must be a duration like "30s"',
        'KubeProxyConfiguration.nftables.syncPeriod: Invalid value: "0s": must be greater than 0',
      ]);
      return true;
    },
  );
});
