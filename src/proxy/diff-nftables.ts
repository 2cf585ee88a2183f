import { NFT_FAMILY, NFT_TABLE, type NftRuleset } from './render-nftables.ts';

/**
 * diffNftables computes the `nft -f` commands that turn the table last applied into the wanted one, from the two
 * in-memory rulesets alone (the kernel is never listed): new sets, maps and chains, rewritten chains (flush, then
 * their rules), element deletions then additions, and flushes of chains no longer wanted. Chains are deleted a sync
 * later (deleteChains), as upstream does: kernels before 6.2 notice only after a moment that a map element no longer
 * points at a chain. Pure; the commands apply in one transaction.
 */
export function diffNftables(applied: NftRuleset, wanted: NftRuleset, options: { deleteChains?: readonly string[] } = {}): NftDiff {
  const t = `${NFT_FAMILY} ${NFT_TABLE}`;
  const out: string[] = [];
  for (const name of options.deleteChains ?? []) if (!wanted.chains.has(name)) out.push(`delete chain ${t} ${name}`);
  for (const [name, s] of wanted.sets) if (!applied.sets.has(name)) out.push(`add ${s.kind} ${t} ${name} ${s.spec}`);
  for (const [name, c] of wanted.chains) if (!applied.chains.has(name)) out.push(`add chain ${t} ${name}${c.spec ? ` ${c.spec}` : ''}`);
  let changedChains = 0;
  for (const [name, c] of wanted.chains) {
    const before = applied.chains.get(name);
    if (before && sameRules(before.rules, c.rules)) continue;
    if (before && before.rules.length > 0) out.push(`flush chain ${t} ${name}`);
    for (const r of c.rules) out.push(`add rule ${t} ${name} ${r}`);
    changedChains++;
  }
  let changedElements = 0;
  for (const [name, s] of wanted.sets) {
    const before = applied.sets.get(name)?.elements;
    if (!before) continue;
    for (const [key, text] of before) {
      if (s.elements.get(key) === text) continue;
      out.push(`delete element ${t} ${name} { ${key} }`);
      changedElements++;
    }
  }
  for (const [name, s] of wanted.sets) {
    const before = applied.sets.get(name)?.elements;
    for (const [key, text] of s.elements) {
      if (before?.get(key) === text) continue;
      out.push(`add element ${t} ${name} { ${text} }`);
      changedElements++;
    }
  }
  const staleChains: string[] = [];
  for (const [name, c] of applied.chains) {
    if (wanted.chains.has(name)) continue;
    if (c.rules.length > 0) out.push(`flush chain ${t} ${name}`);
    staleChains.push(name);
  }
  // Sets no longer wanted (affinity sets) go at once: the flushes above removed every rule using them.
  for (const [name, s] of applied.sets) if (!wanted.sets.has(name)) out.push(`delete ${s.kind} ${t} ${name}`);
  return { script: out.length > 0 ? `${out.join('\n')}\n` : '', changedChains, changedElements, staleChains };
}

/** NftDiff is what diffNftables found. */
export interface NftDiff {
  /** The commands; empty when nothing changed. */
  script: string;
  /** Chains created or rewritten. */
  changedChains: number;
  /** Map and set elements deleted or added. */
  changedElements: number;
  /** Chains flushed now, to delete on a later sync (still in the kernel until then). */
  staleChains: string[];
}

function sameRules(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * withStaleChains is the ruleset as the kernel holds it after a diff: the wanted one plus the flushed, not yet
 * deleted chains (empty), so the next diff can delete them or fill them again.
 */
export function withStaleChains(wanted: NftRuleset, stale: Iterable<string>): NftRuleset {
  const chains = new Map(wanted.chains);
  for (const name of stale) if (!chains.has(name)) chains.set(name, { spec: '', rules: [] });
  return { chains, sets: wanted.sets };
}
