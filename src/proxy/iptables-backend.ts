import type { IptablesHost } from '../sys/iptables.ts';
import type { BackendSyncResult, ProxyBackend } from './backend.ts';
import { isServiceChain } from './chain-names.ts';
import { JUMP_RULES } from './jump-rules.ts';
import { renderIptables, type RenderInput } from './render-iptables.ts';
import type { ServicePort } from './service-ports.ts';

/**
 * IptablesBackend is iptables mode: renderIptables() for the whole ruleset with only changed services' chains
 * rewritten, one `iptables-restore --noflush`, and the jump rules from the built-in chains checked on full syncs.
 */
export class IptablesBackend implements ProxyBackend {
  readonly mode = 'iptables';
  #iptables: IptablesHost;
  #render: Omit<RenderInput, 'servicePorts'>;
  #natChains: string[] | undefined;
  #last = '';

  constructor(iptables: IptablesHost, render: Omit<RenderInput, 'servicePorts'>) {
    this.#iptables = iptables;
    this.#render = render;
  }

  async sync(
    ports: readonly ServicePort[],
    changed: ReadonlySet<string>,
    _removed: readonly string[],
    full: boolean,
  ): Promise<BackendSyncResult> {
    const existing =
      full || !this.#natChains ? (await this.#iptables.chains('nat')).filter(isServiceChain) : this.#natChains;
    const result = renderIptables(
      { ...this.#render, servicePorts: ports },
      { changedServices: full ? undefined : changed, existingNatChains: existing },
    );
    await this.#iptables.restore(result.text);
    if (full) await this.#ensureJumps();
    this.#natChains = result.natChains;
    this.#last = result.text;
    const natAt = result.text.indexOf('*nat');
    const written = {
      filter: (result.text.slice(0, natAt).match(/^-A /gm) ?? []).length,
      nat: (result.text.slice(natAt).match(/^-A /gm) ?? []).length,
    };
    return { ruleCounts: result.ruleCounts, rulesWritten: written, bytes: result.text.length };
  }

  pendingAfterMs(): number | undefined {
    return undefined;
  }

  rules(): string {
    return this.#last;
  }

  /** #ensureJumps checks every jump rule at once (each check is a process), then inserts the missing ones in order. */
  async #ensureJumps(): Promise<void> {
    const ipt = this.#iptables;
    const present = await Promise.all(
      JUMP_RULES.map((rule) => ipt.hasRule(rule.table, rule.from, [...rule.args, '-j', rule.to])),
    );
    for (const [i, rule] of JUMP_RULES.entries())
      if (!present[i]) await ipt.ensureRule(rule.table, rule.from, [...rule.args, '-j', rule.to]);
  }
}
