import type { NftHost } from '../sys/nft.ts';
import type { BackendSyncResult, ProxyBackend } from './backend.ts';
import { diffNftables, withStaleChains } from './diff-nftables.ts';
import { countNftRules, nftScript, renderNftables, type NftRenderInput, type NftRuleset } from './render-nftables.ts';
import type { ServicePort } from './service-ports.ts';

/** Stale chains are deleted this long after they were flushed (upstream's margin for kernels before 6.2). */
const STALE_CHAIN_DELAY_MS = 1000;

/**
 * NftablesBackend is nftables mode. It keeps the model of what the kernel holds (the ruleset it last applied) and
 * sends only the difference, in one `nft -f` transaction; it never lists the table. A full sync (start, failure,
 * hourly) replaces the table atomically (`add table; delete table; …` in one transaction), which also repairs
 * anything changed behind its back.
 */
export class NftablesBackend implements ProxyBackend {
  readonly mode = 'nftables';
  #nft: NftHost;
  #render: Omit<NftRenderInput, 'servicePorts'>;
  #clock: () => number;
  /** What the kernel holds, including flushed chains not deleted yet; undefined until the first full sync. */
  #applied: NftRuleset | undefined;
  /** Flushed chains and when they were flushed. */
  #stale = new Map<string, number>();

  constructor(nft: NftHost, render: Omit<NftRenderInput, 'servicePorts'>, clock: () => number = Date.now) {
    this.#nft = nft;
    this.#render = render;
    this.#clock = clock;
  }

  async sync(ports: readonly ServicePort[], _changed: ReadonlySet<string>, full: boolean): Promise<BackendSyncResult> {
    const wanted = renderNftables({ ...this.#render, servicePorts: ports });
    const rules = countNftRules(wanted);
    if (full || !this.#applied) {
      const script = nftScript(wanted, { replace: true });
      this.#applied = undefined;
      await this.#nft.run(script);
      this.#applied = wanted;
      this.#stale.clear();
      return { ruleCounts: { filter: 0, nat: rules }, rulesWritten: { filter: 0, nat: rules }, bytes: script.length };
    }
    const now = this.#clock();
    const due = [...this.#stale].filter(([, at]) => now - at >= STALE_CHAIN_DELAY_MS).map(([name]) => name);
    const diff = diffNftables(this.#applied, wanted, { deleteChains: due });
    if (diff.script !== '') {
      try {
        await this.#nft.run(diff.script);
      } catch (error) {
        // The kernel may now differ from the model in any way: only a full sync may follow.
        this.#applied = undefined;
        throw error;
      }
    }
    for (const name of due) this.#stale.delete(name);
    for (const name of [...this.#stale.keys()]) if (wanted.chains.has(name)) this.#stale.delete(name);
    for (const name of diff.staleChains) if (!this.#stale.has(name)) this.#stale.set(name, now);
    this.#applied = withStaleChains(wanted, this.#stale.keys());
    const written = diff.script.split('\n').filter((l) => l.startsWith('add rule')).length;
    return { ruleCounts: { filter: 0, nat: rules }, rulesWritten: { filter: 0, nat: written }, bytes: diff.script.length };
  }

  pendingAfterMs(): number | undefined {
    if (this.#stale.size === 0) return undefined;
    const oldest = Math.min(...this.#stale.values());
    return Math.max(0, oldest + STALE_CHAIN_DELAY_MS - this.#clock()) + 10;
  }

  rules(): string {
    return this.#applied ? nftScript(this.#applied, { replace: true }) : '';
  }
}
