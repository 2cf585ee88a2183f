/**
 * ProxyMetrics holds kube-proxy's metrics under upstream's names and renders them in the Prometheus text format
 * (no dependency: a handful of counters, gauges and histograms).
 */
import { exponentialBuckets, Histogram } from '../util/histogram.ts';

const SYNC_BUCKETS = exponentialBuckets(0.001, 2, 15);

/** SyncHistogram is one of kube-proxy's sync-duration histograms, with its name and help text. */
class SyncHistogram extends Histogram {
  readonly name: string;
  readonly help: string;
  constructor(name: string, help: string, buckets: readonly number[]) {
    super(buckets);
    this.name = name;
    this.help = help;
  }
  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`, ...this.lines(this.name)].join('\n');
  }
}

export class ProxyMetrics {
  readonly syncDuration = new SyncHistogram(
    'kubeproxy_sync_proxy_rules_duration_seconds',
    'SyncProxyRules latency in seconds',
    SYNC_BUCKETS,
  );
  readonly fullSyncDuration = new SyncHistogram(
    'kubeproxy_sync_full_proxy_rules_duration_seconds',
    'SyncProxyRules latency in seconds for full resyncs',
    SYNC_BUCKETS,
  );
  readonly partialSyncDuration = new SyncHistogram(
    'kubeproxy_sync_partial_proxy_rules_duration_seconds',
    'SyncProxyRules latency in seconds for partial resyncs',
    SYNC_BUCKETS,
  );
  lastSyncTimestamp = 0;
  lastQueuedTimestamp = 0;
  restoreFailures = 0;
  partialRestoreFailures = 0;
  nftablesSyncFailures = 0;
  nftablesCleanupFailures = 0;
  serviceChanges = 0;
  endpointChanges = 0;
  rulesTotal = { filter: 0, nat: 0 };
  rulesLast = { filter: 0, nat: 0 };
  healthz: Record<string, number> = {};
  livez: Record<string, number> = {};

  render(): string {
    const counter = (name: string, help: string, value: number) =>
      `# HELP ${name} ${help}\n# TYPE ${name} counter\n${name} ${value}`;
    const gauge = (name: string, help: string, value: number) =>
      `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${value}`;
    const byCode = (name: string, help: string, values: Record<string, number>) =>
      [
        `# HELP ${name} ${help}`,
        `# TYPE ${name} counter`,
        ...Object.entries(values).map(([code, v]) => `${name}{code="${code}"} ${v}`),
      ].join('\n');
    const byTable = (name: string, help: string, type: string, values: { filter: number; nat: number }) =>
      `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name}{table="filter"} ${values.filter}\n${name}{table="nat"} ${values.nat}`;
    return `${[
      this.syncDuration.render(),
      this.fullSyncDuration.render(),
      this.partialSyncDuration.render(),
      gauge(
        'kubeproxy_sync_proxy_rules_last_timestamp_seconds',
        'The last time proxy rules were successfully synced',
        this.lastSyncTimestamp,
      ),
      gauge(
        'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds',
        'The last time a sync of proxy rules was queued',
        this.lastQueuedTimestamp,
      ),
      counter(
        'kubeproxy_sync_proxy_rules_iptables_restore_failures_total',
        'Cumulative proxy iptables restore failures',
        this.restoreFailures,
      ),
      counter(
        'kubeproxy_sync_proxy_rules_iptables_partial_restore_failures_total',
        'Cumulative proxy iptables partial restore failures',
        this.partialRestoreFailures,
      ),
      counter(
        'kubeproxy_sync_proxy_rules_nftables_sync_failures_total',
        'Cumulative proxy nftables sync failures',
        this.nftablesSyncFailures,
      ),
      counter(
        'kubeproxy_sync_proxy_rules_nftables_cleanup_failures_total',
        'Cumulative proxy nftables cleanup failures',
        this.nftablesCleanupFailures,
      ),
      counter(
        'kubeproxy_sync_proxy_rules_service_changes_total',
        'Cumulative proxy rules Service changes',
        this.serviceChanges,
      ),
      counter(
        'kubeproxy_sync_proxy_rules_endpoint_changes_total',
        'Cumulative proxy rules Endpoint changes',
        this.endpointChanges,
      ),
      byTable(
        'kubeproxy_sync_proxy_rules_iptables_total',
        'Total number of iptables rules owned by kube-proxy',
        'gauge',
        this.rulesTotal,
      ),
      byTable(
        'kubeproxy_sync_proxy_rules_iptables_last',
        'Number of iptables rules written by kube-proxy in last sync',
        'gauge',
        this.rulesLast,
      ),
      byCode('kubeproxy_proxy_healthz_total', 'Cumulative proxy healthz HTTP status', this.healthz),
      byCode('kubeproxy_proxy_livez_total', 'Cumulative proxy livez HTTP status', this.livez),
    ].join('\n')}\n`;
  }
}
