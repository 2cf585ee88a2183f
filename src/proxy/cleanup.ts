import type { Logger } from '../log/klog.ts';
import { commandExists } from '../sys/run.ts';
import { Iptables, type IptablesHost } from '../sys/iptables.ts';
import { Nft } from '../sys/nft.ts';
import { isServiceChain } from './chain-names.ts';
import { JUMP_RULES, OWNED_CHAINS } from './jump-rules.ts';
import { NFT_FAMILY, NFT_TABLE } from './render-nftables.ts';

/**
 * cleanupIptables removes iptables mode's jump rules and chains (and nothing else); a host without iptables has
 * nothing to clean.
 */
export async function cleanupIptables(log: Logger): Promise<void> {
  if (!(await commandExists('iptables-nft-restore')) && !(await commandExists('iptables-legacy-restore'))) return;
  await removeIptablesRules(await Iptables.detect(), log);
}

/** removeIptablesRules deletes kube-proxy's jump rules from the built-in chains, then its chains, in one restore. */
export async function removeIptablesRules(iptables: IptablesHost, log: Logger): Promise<void> {
  for (const rule of JUMP_RULES) await iptables.deleteRule(rule.table, rule.from, [...rule.args, '-j', rule.to]);
  const nat = (await iptables.chains('nat')).filter(
    (c) => isServiceChain(c) || (OWNED_CHAINS.nat as readonly string[]).includes(c),
  );
  const filter = (await iptables.chains('filter')).filter((c) =>
    (OWNED_CHAINS.filter as readonly string[]).includes(c),
  );
  if (nat.length + filter.length === 0) return;
  const text = [
    '*filter',
    ...filter.map((c) => `:${c} - [0:0]`),
    ...filter.map((c) => `-X ${c}`),
    'COMMIT',
    '*nat',
    ...nat.map((c) => `:${c} - [0:0]`),
    ...nat.map((c) => `-X ${c}`),
    'COMMIT',
    '',
  ].join('\n');
  await iptables.restore(text);
  log.info('Removed iptables kube-proxy rules', { natChains: nat.length, filterChains: filter.length });
}

/** cleanupNftables deletes nftables mode's table `ip kube-proxy`, if there is one. */
export async function cleanupNftables(log: Logger): Promise<void> {
  if (!(await commandExists('nft'))) return;
  const nft = await Nft.detect();
  if (await nft.deleteTable(NFT_FAMILY, NFT_TABLE))
    log.info('Removed nftables kube-proxy table', { table: `${NFT_FAMILY} ${NFT_TABLE}` });
}
