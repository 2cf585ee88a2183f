import type { Node, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Logger } from '../log/klog.ts';
import type { ConntrackHost } from '../sys/conntrack.ts';
import { type Clock, realClock } from '../util/clock.ts';
import type { ProxyBackend } from './backend.ts';
import { BoundedFrequencyRunner, type RunOutcome } from './bounded-frequency-runner.ts';
import type { HealthSource } from './health-server.ts';
import type { ProxyMetrics } from './metrics.ts';
import { ServiceHealthServers } from './service-health.ts';
import { ServicePortCache } from './service-port-cache.ts';
import type { ProxyEventHandlers } from './proxy-informers.ts';
import type { ServicePort } from './service-ports.ts';

/** FULL_SYNC_PERIOD_MS: a full rewrite at least this often, as upstream's proxyutil.FullSyncPeriod. */
export const FULL_SYNC_PERIOD_MS = 3_600_000;

export interface ProxierOptions {
  /** iptables or nftables: render + apply. */
  backend: ProxyBackend;
  /** The connection tracking table (stale UDP entries are deleted from it). */
  conntrack: ConntrackHost;
  nodeName: string;
  logger: Logger;
  metrics: ProxyMetrics;
  syncPeriodMs: number;
  minSyncPeriodMs: number;
  /** Time and timers (default: the real ones). */
  clock?: Clock;
}

/**
 * Proxier is the sync loop of both modes, glue only, shaped as upstream's: the informers (proxy-informers.ts, or a
 * unit test) call its handlers with Services, EndpointSlices and its own Node; syncs run through a
 * BoundedFrequencyRunner (burst of 2, one per minSyncPeriod, one at least every syncPeriod, a retry after a
 * failure); partial syncs rewrite only services whose rules changed (found by comparing each service port's model
 * with the one last applied, so no iptables-save runs per sync), with a full sync first, hourly and after any failure.
 */
export class Proxier implements HealthSource, ProxyEventHandlers {
  #o: ProxierOptions;
  #clock: Clock;
  #runner: BoundedFrequencyRunner;
  #appliedPorts = new Map<string, ServicePort>();
  #cache = new ServicePortCache();
  #servicesSynced = false;
  #slicesSynced = false;
  #started = false;
  #synced = false;
  #needFullSync = true;
  #lastFullSync = 0;
  #node: Node | undefined;
  /** When a change was queued and not applied yet (for /healthz), else undefined. */
  queuedAt: number | undefined;
  /** When rules were last applied successfully. */
  lastUpdated: number | undefined;
  /** The rules last applied (for /debug/rules): the backend's whole ruleset, printed on demand. */
  get lastRules(): string {
    return this.#o.backend.rules();
  }
  /** Called after every successful sync (tests and benchmarks wait on it). */
  onSynced: (() => void) | undefined;
  #serviceHealth: ServiceHealthServers;

  constructor(options: ProxierOptions) {
    this.#o = options;
    this.#clock = options.clock ?? realClock;
    this.#runner = new BoundedFrequencyRunner(() => this.#sync(), {
      clock: this.#clock,
      minIntervalMs: options.minSyncPeriodMs,
      maxIntervalMs: options.syncPeriodMs,
      retryMs: Math.min(options.syncPeriodMs, 1000),
    });
    this.#serviceHealth = new ServiceHealthServers(
      options.logger,
      () => this.queuedAt === undefined || this.#clock.now() - this.queuedAt < 2 * options.syncPeriodMs,
    );
  }

  /** node is this node's Node object, when it exists. */
  node(): Node | undefined {
    return this.#node;
  }

  // Every Service and EndpointSlice event counts and queues a sync, as upstream's change trackers do; one that
  // changes no rule writes nothing (the sync finds no changed service port).
  onServiceAdd(service: Service): void {
    this.#service(service, false);
  }
  onServiceUpdate(_old: Service, service: Service): void {
    this.#service(service, false);
  }
  onServiceDelete(service: Service): void {
    this.#service(service, true);
  }
  /** onServicesSynced: the first list of Services is in (no sync runs before both lists are). */
  onServicesSynced(): void {
    this.#servicesSynced = true;
    this.#startWhenSynced();
  }
  onEndpointSliceAdd(slice: EndpointSlice): void {
    this.#slice(slice, undefined, false);
  }
  onEndpointSliceUpdate(old: EndpointSlice, slice: EndpointSlice): void {
    this.#slice(slice, old, false);
  }
  onEndpointSliceDelete(slice: EndpointSlice): void {
    this.#slice(slice, undefined, true);
  }
  onEndpointSlicesSynced(): void {
    this.#slicesSynced = true;
    this.#startWhenSynced();
  }
  /**
   * onNodeAdd / onNodeUpdate / onNodeDelete keep this node's object for /healthz. They never ask for a sync: nothing
   * rendered depends on the Node (upstream resyncs when its labels change, for topology hints, which tskube does not
   * implement), so the kubelet's status heartbeat every 10 s costs nothing here.
   */
  onNodeAdd(node: Node): void {
    this.#node = node;
  }
  onNodeUpdate(_old: Node, node: Node): void {
    this.#node = node;
  }
  onNodeDelete(_node: Node): void {
    this.#node = undefined;
  }

  /** stop cancels pending syncs and closes the health check servers (rules stay in the kernel). */
  stop(): void {
    this.#runner.stop();
    this.#serviceHealth.close();
  }

  #service(s: Service, deleted: boolean): void {
    this.#o.metrics.serviceChanges++;
    this.#cache.setService(s.metadata?.namespace ?? '', s.metadata?.name ?? '', deleted ? undefined : s);
    this.#queue();
  }

  #slice(s: EndpointSlice, old: EndpointSlice | undefined, deleted: boolean): void {
    this.#o.metrics.endpointChanges++;
    this.#cache.setSlice(s, old, deleted);
    this.#queue();
  }

  #startWhenSynced(): void {
    if (this.#started || !this.#servicesSynced || !this.#slicesSynced) return;
    this.#started = true;
    this.#runner.start();
  }

  /** #queue asks for a sync (the runner coalesces and rate-limits) and notes when, for /healthz. */
  #queue(): void {
    if (this.queuedAt === undefined) {
      this.queuedAt = this.#clock.now();
      this.#o.metrics.lastQueuedTimestamp = this.queuedAt / 1000;
    }
    if (this.#started) this.#runner.run();
  }

  /** #sync is upstream's syncProxyRules: build the model, apply what changed, remember it. */
  async #sync(): Promise<RunOutcome> {
    const log = this.#o.logger;
    const started = performance.now();
    const queued = this.queuedAt;
    this.queuedAt = undefined;
    const full = this.#needFullSync || this.#clock.now() - this.#lastFullSync > FULL_SYNC_PERIOD_MS;
    try {
      const { ports, changed, removed } = this.#cache.build(this.#o.nodeName);
      const pendingAfter = this.#o.backend.pendingAfterMs();
      if (!full && changed.size === 0 && removed.length === 0 && this.#synced && pendingAfter === undefined) {
        this.#done();
        return 'noop';
      }
      const mode = this.#o.backend.mode;
      log.v(2).info(`Syncing ${mode} rules`, { full, changedServices: changed.size });
      const result = await this.#o.backend.sync(ports, changed, removed, full);
      await this.#clearStaleUdp(ports, full ? new Set(ports.map((p) => p.name)) : changed);
      this.#serviceHealth.sync(ports);
      for (const key of removed) this.#appliedPorts.delete(key);
      for (const p of ports) if (full || changed.has(p.name)) this.#appliedPorts.set(`${p.name}/${p.protocol}`, p);
      this.#synced = true;
      this.#needFullSync = false;
      if (full) this.#lastFullSync = this.#clock.now();
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
      if (again !== undefined) this.#runner.runAfter(again);
      this.#done();
      return 'done';
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
      this.queuedAt ??= queued ?? this.#clock.now();
      // Never exit because one apply failed: the runner retries (a full sync) after a short pause.
      return 'failed';
    }
  }

  #done(): void {
    this.lastUpdated = this.#clock.now();
    this.#o.metrics.lastSyncTimestamp = this.lastUpdated / 1000;
    this.onSynced?.();
  }

  /** #clearStaleUdp drops conntrack entries of UDP service ports whose endpoints went away (or came back from none). */
  async #clearStaleUdp(ports: readonly ServicePort[], changed: ReadonlySet<string>): Promise<void> {
    const conntrack = this.#o.conntrack;
    for (const p of ports) {
      if (p.protocol !== 'UDP' || !changed.has(p.name)) continue;
      const before = this.#appliedPorts.get(`${p.name}/UDP`);
      if (!before) continue;
      const now = new Set(p.plan.allReachable.map((e) => e.ip));
      const was = before.plan.allReachable.map((e) => e.ip);
      try {
        for (const ip of was) {
          if (now.has(ip)) continue;
          await conntrack.clearUdp({ origDst: p.clusterIP, dstNat: ip });
          if (p.nodePort) await conntrack.clearUdp({ dport: p.nodePort, dstNat: ip });
        }
        if (was.length === 0 && now.size > 0) await conntrack.clearUdp({ origDst: p.clusterIP });
      } catch (error) {
        this.#o.logger.error('Failed to delete stale UDP conntrack entries', { service: p.name, error });
      }
    }
  }
}
