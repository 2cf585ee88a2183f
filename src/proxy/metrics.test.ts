import assert from 'node:assert/strict';
import test from 'node:test';
import { ProxyMetrics } from './metrics.ts';

test("kube-proxy's metrics render under upstream's names, sync durations as cumulative histograms", () => {
  const m = new ProxyMetrics();
  m.syncDuration.observe(0.003);
  m.syncDuration.observe(0.5);
  m.fullSyncDuration.observe(0.003);
  m.restoreFailures = 2;
  m.rulesTotal = { filter: 4, nat: 17 };
  const text = m.render();
  const series = (name: string) => text.split('\n').filter((l) => l.startsWith(name));
  const sync = 'kubeproxy_sync_proxy_rules_duration_seconds';
  assert.match(text, new RegExp(`# TYPE ${sync} histogram`));
  assert.deepEqual(series(`${sync}_bucket{le="0.002"}`), [`${sync}_bucket{le="0.002"} 0`]);
  assert.deepEqual(series(`${sync}_bucket{le="0.004"}`), [`${sync}_bucket{le="0.004"} 1`]);
  assert.deepEqual(series(`${sync}_bucket{le="0.512"}`), [`${sync}_bucket{le="0.512"} 2`]);
  assert.deepEqual(series(`${sync}_bucket{le="+Inf"}`), [`${sync}_bucket{le="+Inf"} 2`]);
  assert.deepEqual(series(`${sync}_count`), [`${sync}_count 2`]);
  assert.deepEqual(series(`${sync}_sum`), [`${sync}_sum 0.503`]);
  assert.deepEqual(series('kubeproxy_sync_full_proxy_rules_duration_seconds_count'), [
    'kubeproxy_sync_full_proxy_rules_duration_seconds_count 1',
  ]);
  assert.deepEqual(series('kubeproxy_sync_proxy_rules_iptables_restore_failures_total'), [
    'kubeproxy_sync_proxy_rules_iptables_restore_failures_total 2',
  ]);
  assert.deepEqual(series('kubeproxy_sync_proxy_rules_iptables_total'), [
    'kubeproxy_sync_proxy_rules_iptables_total{table="filter"} 4',
    'kubeproxy_sync_proxy_rules_iptables_total{table="nat"} 17',
  ]);
});
