import {
  countNftRules,
  mergeNftables,
  NFT_FAMILY,
  NFT_TABLE,
  nftScript,
  renderNftServicePort,
  renderNftSkeleton,
  type NftChain,
  type NftFragment,
  type NftRenderInput,
  type NftRuleset,
} from './render-nftables.ts';
import type { ServicePort } from './service-ports.ts';

/** Stale chains are deleted this long after they were flushed (upstream's margin for kernels before 6.2). */
export const STALE_CHAIN_DELAY_MS = 1000;

const T = `${NFT_FAMILY} ${NFT_TABLE}`;

/**
 * NftTableState is the model of what the kernel's `ip kube-proxy` table holds, kept per service port, and the
 * commands that change it: `full()` prints the whole table as an atomic replace; `update()` re-renders only the
 * service ports named as changed and returns just the difference (their chains, affinity sets, and the map and set
 * elements whose reference count went to or from zero). It never needs the kernel's listing. Pure: no I/O, the
 * clock is passed in. Each call moves the model to the new table at once (no copy of the 100,000s of elements):
 * when the kernel refuses the commands, the model is wrong and only `full()` may follow.
 */
export class NftTableState {
  #input: Omit<NftRenderInput, 'servicePorts'>;
  #skeleton: NftRuleset;
  #skeletonRules: number;
  /** Service port key (`name/protocol`) → its fragment, as applied. */
  #fragments = new Map<string, NftFragment>();
  /** set → key → element text and how many fragments want it, as applied. */
  #elements = new Map<string, Map<string, { text: string; refs: number }>>();
  /** Flushed chains and when; deleted once STALE_CHAIN_DELAY_MS has passed. */
  #stale = new Map<string, number>();
  #rules = 0;

  constructor(input: Omit<NftRenderInput, 'servicePorts'>) {
    this.#input = input;
    this.#skeleton = renderNftSkeleton(input);
    this.#skeletonRules = countNftRules(this.#skeleton);
  }

  /** rules is the number of rules the table holds once the pending commands are committed. */
  get rules(): number {
    return this.#rules;
  }

  /** full prints the whole table for ports, replacing whatever the kernel has. */
  full(ports: readonly ServicePort[]): string {
    const fragments = new Map(ports.map((sp) => [keyOf(sp), renderNftServicePort(sp, this.#input)]));
    const elements = new Map<string, Map<string, { text: string; refs: number }>>();
    let rules = this.#skeletonRules;
    for (const f of fragments.values()) {
      for (const c of f.chains.values()) rules += c.rules.length;
      for (const [set, key, text] of f.elements) refElement(elements, set, key, text);
    }
    this.#fragments = fragments;
    this.#elements = elements;
    this.#stale = new Map();
    this.#rules = rules;
    return nftScript(mergeNftables(this.#skeleton, fragments.values()), { replace: true });
  }

  /**
   * update prints the commands that bring the table to ports, re-rendering the service ports whose names are in
   * changed (new ones must be there too) and dropping those keyed (`name/protocol`) in removed; empty when nothing
   * is to be done.
   */
  update(ports: readonly ServicePort[], changed: ReadonlySet<string>, removed: readonly string[], now: number): string {
    const out = new Commands();
    const fragments = this.#fragments;
    const elements = this.#elements;
    const stale = this.#stale;
    let rules = this.#rules;
    const replaced: [NftFragment | undefined, NftFragment | undefined][] = [];
    if (changed.size > 0) {
      for (const sp of ports) {
        if (!changed.has(sp.name)) continue;
        const key = keyOf(sp);
        const before = fragments.get(key);
        const after = renderNftServicePort(sp, this.#input);
        fragments.set(key, after);
        replaced.push([before, after]);
      }
    }
    for (const key of removed) {
      const before = fragments.get(key);
      if (!before) continue;
      replaced.push([before, undefined]);
      fragments.delete(key);
    }
    // Chains due for deletion go first (nothing refers to them any more), unless wanted again below.
    const wantedAgain = new Set<string>();
    for (const [, after] of replaced) for (const name of after?.chains.keys() ?? []) wantedAgain.add(name);
    for (const [name, at] of stale) {
      if (wantedAgain.has(name)) stale.delete(name);
      else if (now - at >= STALE_CHAIN_DELAY_MS) {
        out.deleteChains.push(`delete chain ${T} ${name}`);
        stale.delete(name);
      }
    }
    // Additions before removals, so an element both fragments want is never deleted and added again.
    for (const [before, after] of replaced) {
      if (!after) continue;
      for (const [name, s] of after.sets)
        if (!before?.sets.has(name)) out.addSets.push(`add ${s.kind} ${T} ${name} ${s.spec}`);
      for (const [name, c] of after.chains) {
        const old = before?.chains.get(name);
        if (old && sameRules(old, c)) continue;
        if (!old) out.addChains.push(`add chain ${T} ${name}`);
        else if (old.rules.length > 0) out.rules.push(`flush chain ${T} ${name}`);
        for (const r of c.rules) out.rules.push(`add rule ${T} ${name} ${r}`);
        rules += c.rules.length - (old?.rules.length ?? 0);
      }
      for (const [set, key, text] of after.elements) {
        const current = elements.get(set)?.get(key);
        if (current && current.text !== text) out.deleteElements.push(`delete element ${T} ${set} { ${key} }`);
        if (!current || current.text !== text) out.addElements.push(`add element ${T} ${set} { ${text} }`);
        refElement(elements, set, key, text);
      }
    }
    for (const [before, after] of replaced) {
      if (!before) continue;
      for (const [name, c] of before.chains) {
        if (after?.chains.has(name)) continue;
        if (c.rules.length > 0) out.flushChains.push(`flush chain ${T} ${name}`);
        rules -= c.rules.length;
        if (!stale.has(name)) stale.set(name, now);
      }
      for (const [name, s] of before.sets)
        if (!after?.sets.has(name)) out.deleteSets.push(`delete ${s.kind} ${T} ${name}`);
      for (const [set, key] of before.elements) {
        const current = elements.get(set)?.get(key);
        if (!current) continue;
        if (--current.refs === 0) {
          elements.get(set)!.delete(key);
          out.deleteElements.push(`delete element ${T} ${set} { ${key} }`);
        }
      }
    }
    this.#rules = rules;
    return out.script();
  }

  /** staleDueIn is how long until the oldest flushed chain may be deleted, or undefined when there is none. */
  staleDueIn(now: number): number | undefined {
    if (this.#stale.size === 0) return undefined;
    let oldest = Infinity;
    for (const at of this.#stale.values()) oldest = Math.min(oldest, at);
    return Math.max(0, oldest + STALE_CHAIN_DELAY_MS - now);
  }

  /** ruleset is the whole table as applied (for /debug/rules and tests). */
  ruleset(): NftRuleset {
    return mergeNftables(this.#skeleton, this.#fragments.values());
  }
}

/** Commands collects one transaction in the order the kernel needs. */
class Commands {
  deleteChains: string[] = [];
  addSets: string[] = [];
  addChains: string[] = [];
  rules: string[] = [];
  deleteElements: string[] = [];
  addElements: string[] = [];
  flushChains: string[] = [];
  deleteSets: string[] = [];

  script(): string {
    const all = [
      ...this.deleteChains,
      ...this.addSets,
      ...this.addChains,
      ...this.rules,
      ...this.deleteElements,
      ...this.addElements,
      ...this.flushChains,
      ...this.deleteSets,
    ];
    return all.length > 0 ? `${all.join('\n')}\n` : '';
  }
}

function keyOf(sp: ServicePort): string {
  return `${sp.name}/${sp.protocol}`;
}

function refElement(
  elements: Map<string, Map<string, { text: string; refs: number }>>,
  set: string,
  key: string,
  text: string,
): void {
  let byKey = elements.get(set);
  if (!byKey) elements.set(set, (byKey = new Map()));
  const current = byKey.get(key);
  if (current) {
    current.refs++;
    current.text = text;
  } else byKey.set(key, { text, refs: 1 });
}

function sameRules(a: NftChain, b: NftChain): boolean {
  if (a.rules.length !== b.rules.length) return false;
  for (let i = 0; i < a.rules.length; i++) if (a.rules[i] !== b.rules[i]) return false;
  return true;
}
