import type { NftHost } from '../sys/nft.ts';
import { type Clock, realClock } from '../util/clock.ts';
import type { BackendSyncResult, ProxyBackend } from './backend.ts';
import { NftTableState } from './nft-state.ts';
import { nftScript, type NftRenderInput } from './render-nftables.ts';
import type { ServicePort } from './service-ports.ts';

/**
 * NftablesBackend is nftables mode: the model of the kernel's table (NftTableState) says what to send, and only
 * that goes to the kernel, in one `nft -f` transaction; the table is never listed. A full sync (start, failure,
 * hourly) replaces the table atomically (`add table; delete table; …` in one transaction), which also repairs
 * anything changed behind its back.
 */
export class NftablesBackend implements ProxyBackend {
  readonly mode = 'nftables';
  #nft: NftHost;
  #state: NftTableState;
  #clock: Clock;
  /** The kernel holds what the model says (false before the first sync and after a failure). */
  #inSync = false;

  constructor(nft: NftHost, render: Omit<NftRenderInput, 'servicePorts'>, clock: Clock = realClock) {
    this.#nft = nft;
    this.#state = new NftTableState(render);
    this.#clock = clock;
  }

  async sync(
    ports: readonly ServicePort[],
    changed: ReadonlySet<string>,
    removed: readonly string[],
    full: boolean,
  ): Promise<BackendSyncResult> {
    const replace = full || !this.#inSync;
    const script = replace ? this.#state.full(ports) : this.#state.update(ports, changed, removed, this.#clock.now());
    this.#inSync = false;
    if (script !== '') await this.#nft.run(script);
    this.#inSync = true;
    const rules = this.#state.rules;
    const written = replace ? rules : countLines(script, 'add rule ');
    return { ruleCounts: { filter: 0, nat: rules }, rulesWritten: { filter: 0, nat: written }, bytes: script.length };
  }

  pendingAfterMs(): number | undefined {
    const due = this.#state.staleDueIn(this.#clock.now());
    return due === undefined ? undefined : due + 10;
  }

  rules(): string {
    return this.#inSync ? nftScript(this.#state.ruleset(), { replace: true }) : '';
  }
}

function countLines(text: string, prefix: string): number {
  let n = 0;
  for (let i = text.indexOf(prefix); i >= 0; i = text.indexOf(`\n${prefix}`, i + 1)) n++;
  return n;
}
