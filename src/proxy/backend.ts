import type { ServicePort } from './service-ports.ts';

/**
 * ProxyBackend is what differs between iptables and nftables mode: how the shared model becomes rules and reaches
 * the kernel. The sync loop (proxier.ts) owns everything else: informers, coalescing, change detection, conntrack,
 * health check node ports, metrics.
 */
export interface ProxyBackend {
  readonly mode: 'iptables' | 'nftables';
  /**
   * sync applies the rules for ports. full: rewrite everything (first sync, after a failure, hourly); otherwise
   * changed names the service ports whose rules may differ (new ones included) and removed keys (`name/protocol`)
   * the ones gone since the last sync. Throws on failure (the loop then asks for a full sync).
   */
  sync(
    ports: readonly ServicePort[],
    changed: ReadonlySet<string>,
    removed: readonly string[],
    full: boolean,
  ): Promise<BackendSyncResult>;
  /** pendingAfterMs: when the backend has deferred work (nftables' stale chains), how soon to sync again. */
  pendingAfterMs(): number | undefined;
  /** rules prints the whole ruleset as the tool's input (for /debug/rules; computed on demand). */
  rules(): string;
}

/** BackendSyncResult is what one sync wrote, for logs and metrics. */
export interface BackendSyncResult {
  /** Rules owned, per iptables table (nftables: all in nat). */
  ruleCounts: { filter: number; nat: number };
  /** Rules written by this sync, per table. */
  rulesWritten: { filter: number; nat: number };
  /** Size of the input sent to the tool, in bytes (0: nothing to send). */
  bytes: number;
}
