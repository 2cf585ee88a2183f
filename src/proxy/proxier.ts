import { SyncBudget } from './sync-budget.ts';
import { Informer, type RestClient } from '../client/client.ts';
import type { Logger } from '../log/klog.ts';
import { clearUdpConntrack } from '../sys/conntrack.ts';
import type { ProxyBackend } from './backend.ts';
import type { ProxyMetrics } from './metrics.ts';
import { ServiceHealthServers } from './service-health.ts';
import { ServicePortCache } from './service-port-cache.ts';
import type { ServicePort } from './service-ports.ts';

/** FULL_SYNC_PERIOD_MS: a full rewrite at least this often, as upstream's proxyutil.FullSyncPeriod. */
const FULL_SYNC_PERIOD_MS = 3_600_000;

export interface ProxierOptions {
  client: RestClient;
  /** iptables or nftables: render + apply. */
  backend: ProxyBackend;
  nodeName: string;
  logger: Logger;
  metrics: ProxyMetrics;
  syncPeriodMs: number;
  minSyncPeriodMs: number;
}

/**
 * Proxier is the sync loop of both modes, glue only: informers on Services, EndpointSlices (upstream's
 * selectors) and its own Node; bursts coalesced to one sync per minSyncPeriod; a resync every syncPeriod; partial
 * syncs that rewrite only services whose rules changed (found by comparing each service port's model with the one
 * last applied, so no iptables-save runs per sync), with a full sync first, hourly and after any failure.
 */
export class Proxier {
  #o: ProxierOptions;
  #services: Informer;
  #slices: Informer;
  #node: Informer;
  #appliedPorts = new Map<string, ServicePort>();
  #cache = new ServicePortCache();
  #synced = false;
  #needFullSync = true;
  #lastFullSync = 0;
  #budget: SyncBudget;
  #timer: NodeJS.Timeout | undefined;
  #periodic: NodeJS.Timeout | undefined;
  #running = false;
  #again = false;
  #stopped = false;
  /** When a change was queued and not applied yet (for /healthz), else undefined. */
  queuedAt: number | undefined;
  /** When rules were last applied successfully. */
  lastUpdated: number | undefined;
  /** The rules last applied (for /debug/rules): the backend's whole ruleset, printed on demand. */
  get lastRules(): string {
    return this.#o.backend.rules();
  }
  /** Resolves after every successful sync (tests and benchmarks wait on it). */
  onSynced: (() => void) | undefined;
  #serviceHealth: ServiceHealthServers;

  constructor(options: ProxierOptions) {
    this.#o = options;
    this.#budget = new SyncBudget(options.minSyncPeriodMs);
    this.#serviceHealth = new ServiceHealthServers(
      options.logger,
      () => this.queuedAt === undefined || Date.now() - this.queuedAt < 2 * options.syncPeriodMs,
    );
    const changed = () => this.#queue();
    const selector = '!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless';
    // Every Service and EndpointSlice event counts, as upstream's change trackers count them.
    const m = options.metrics;
    const cache = this.#cache;
    const service = (s: any, deleted = false) => {
      m.serviceChanges++;
      cache.setService(s.metadata.namespace, s.metadata.name, deleted ? undefined : s);
    };
    const slice = (s: any, old?: any, deleted = false) => {
      m.endpointChanges++;
      cache.setSlice(s, old, deleted);
    };
    this.#services = new Informer(
      options.client,
      options.client.resource('services'),
      {
        onAdd: (s) => service(s),
        onUpdate: (_old, s) => service(s),
        onDelete: (s) => service(s, true),
        onChange: changed,
      },
      { labelSelector: '!service.kubernetes.io/service-proxy-name', logger: options.logger },
    );
    this.#slices = new Informer(
      options.client,
      options.client.resource('endpointslices'),
      {
        onAdd: (s) => slice(s),
        onUpdate: (old, s) => slice(s, old),
        onDelete: (s) => slice(s, undefined, true),
        onChange: changed,
      },
      { labelSelector: selector, logger: options.logger },
    );
    this.#node = new Informer(
      options.client,
      options.client.resource('nodes'),
      { onChange: changed },
      { fieldSelector: `metadata.name=${options.nodeName}`, logger: options.logger },
    );
  }

  /** node is this node's Node object, when it exists. */
  node(): any | undefined {
    return this.#node.list()[0];
  }

  async start(): Promise<void> {
    const log = this.#o.logger;
    log.info('Starting service config controller');
    log.info('Starting endpoint slice config controller');
    this.#services.start();
    this.#slices.start();
    this.#node.start();
    await Promise.all([this.#services.waitForSync(), this.#slices.waitForSync()]);
    log.info('Caches are synced for service config controller');
    log.info('Caches are synced for endpoint slice config controller');
    this.#periodic = setInterval(() => this.#queue(true), this.#o.syncPeriodMs);
    this.#queue(true);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearInterval(this.#periodic);
    this.#serviceHealth.close();
    await Promise.all([this.#services.stop(), this.#slices.stop(), this.#node.stop()]);
  }

  /** #queue schedules a sync when the budget allows (upstream's BoundedFrequencyRunner: burst 2, one per minSyncPeriod). */
  #queue(periodic = false): void {
    if (this.#stopped) return;
    if (!periodic && this.queuedAt === undefined) {
      this.queuedAt = Date.now();
      this.#o.metrics.lastQueuedTimestamp = this.queuedAt / 1000;
    }
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#timer) return;
    const wait = this.#budget.waitMs(Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#sync();
    }, wait);
  }

  async #sync(): Promise<void> {
    if (!this.#services.hasSynced() || !this.#slices.hasSynced()) return;
    this.#running = true;
    const log = this.#o.logger;
    const started = performance.now();
    const queued = this.queuedAt;
    this.queuedAt = undefined;
    const full = this.#needFullSync || Date.now() - this.#lastFullSync > FULL_SYNC_PERIOD_MS;
    try {
      const { ports, changed, removed } = this.#cache.build(this.#o.nodeName);
      const pendingAfter = this.#o.backend.pendingAfterMs();
      if (!full && changed.size === 0 && removed.length === 0 && this.#synced && pendingAfter === undefined) {
        this.#done(queued);
        return;
      }
      // Only a sync that writes to the kernel spends the budget: events that change nothing never delay a real change.
      this.#budget.take(Date.now());
      const mode = this.#o.backend.mode;
      log.v(2).info(`Syncing ${mode} rules`, { full, changedServices: changed.size });
      const result = await this.#o.backend.sync(ports, changed, removed, full);
      await this.#clearStaleUdp(ports, full ? new Set(ports.map((p) => p.name)) : changed);
      this.#serviceHealth.sync(ports);
      for (const key of removed) this.#appliedPorts.delete(key);
      for (const p of ports) if (full || changed.has(p.name)) this.#appliedPorts.set(`${p.name}/${p.protocol}`, p);
      this.#synced = true;
      this.#needFullSync = false;
      if (full) this.#lastFullSync = Date.now();
      const m = this.#o.metrics;
      m.rulesTotal = result.ruleCounts;
      m.rulesLast = result.rulesWritten;
      const seconds = (performance.now() - started) / 1000;
      m.syncDuration.observe(seconds);
      (full ? m.fullSyncDuration : m.partialSyncDuration).observe(seconds);
      log.v(2).info('SyncProxyRules complete', {
        elapsed: `${(seconds * 1000).toFixed(1)}ms`,
        full,
        rules: result.ruleCounts.nat + result.ruleCounts.filter,
        bytes: result.bytes,
      });
      // Deferred work (nftables' stale chains) gets its own sync.
      const again = this.#o.backend.pendingAfterMs();
      if (again !== undefined) setTimeout(() => this.#queue(true), again).unref();
      this.#done(queued);
    } catch (error) {
      this.#needFullSync = true;
      if (this.#o.backend.mode === 'nftables') {
        this.#o.metrics.nftablesSyncFailures++;
        log.error('nftables sync failed', { error });
      } else {
        this.#o.metrics.restoreFailures++;
        if (!full) this.#o.metrics.partialRestoreFailures++;
        log.error('Failed to execute iptables-restore', { error });
      }
      this.queuedAt ??= queued ?? Date.now();
      // Never exit because one apply failed: retry with a full sync after a short pause.
      setTimeout(() => this.#queue(true), Math.min(this.#o.syncPeriodMs, 1000));
    } finally {
      this.#running = false;
      if (this.#again) {
        this.#again = false;
        this.#queue();
      }
    }
  }

  #done(queued: number | undefined): void {
    this.lastUpdated = Date.now();
    this.#o.metrics.lastSyncTimestamp = this.lastUpdated / 1000;
    void queued;
    this.onSynced?.();
  }

  /** #clearStaleUdp drops conntrack entries of UDP service ports whose endpoints went away (or came back from none). */
  async #clearStaleUdp(ports: readonly ServicePort[], changed: ReadonlySet<string>): Promise<void> {
    for (const p of ports) {
      if (p.protocol !== 'UDP' || !changed.has(p.name)) continue;
      const before = this.#appliedPorts.get(`${p.name}/UDP`);
      if (!before) continue;
      const now = new Set(p.plan.allReachable.map((e) => e.ip));
      const was = before.plan.allReachable.map((e) => e.ip);
      try {
        for (const ip of was) {
          if (now.has(ip)) continue;
          await clearUdpConntrack({ origDst: p.clusterIP, dstNat: ip });
          if (p.nodePort) await clearUdpConntrack({ dport: p.nodePort, dstNat: ip });
        }
        if (was.length === 0 && now.size > 0) await clearUdpConntrack({ origDst: p.clusterIP });
      } catch (error) {
        this.#o.logger.error('Failed to delete stale UDP conntrack entries', { service: p.name, error });
      }
    }
  }
}
