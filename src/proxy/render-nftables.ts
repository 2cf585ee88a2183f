import { nftEndpointBase, nftServicePortBase } from './chain-names.ts';
import type { Endpoint, ServicePort } from './service-ports.ts';

/**
 * The nftables mode's ruleset as data: upstream's table `ip kube-proxy` (base chains, the `services` dispatch through
 * the `service-ips` / `service-nodeports` verdict maps, `no-endpoint-*` maps, `cluster-ips` / `nodeport-ips` sets,
 * firewall and affinity handling), computed from the shared model. Pure: the same input gives the same ruleset, in
 * sorted order. `nftScript()` prints it as `nft -f` input; `diffNftables()` (diff-nftables.ts) turns two rulesets into
 * the commands that change one into the other.
 */
export interface NftRenderInput {
  servicePorts: readonly ServicePort[];
  /** Pod CIDR for local-traffic detection (`ip saddr != CIDR` masquerades); none: no masquerade rule. */
  clusterCIDR?: string;
  masqueradeAll: boolean;
  masqueradeBit: number;
  /** nodePortAddresses as CIDRs; empty: every local address except 127.0.0.0/8 (`fib daddr type local`). */
  nodePortAddresses: readonly string[];
  /** Local IPv4 addresses matching nodePortAddresses (the `nodeport-ips` set). */
  nodeIPs: readonly string[];
  /** Service CIDRs: traffic to an unallocated ClusterIP in them is dropped. */
  serviceCIDRs?: readonly string[];
  /**
   * How a service chain picks an endpoint. `upstream`: `numgen random mod N vmap { … }` (one anonymous verdict map per
   * service) and one chain per endpoint, byte for byte upstream's. `flat` (default): one `numgen` rule per endpoint
   * that DNATs directly (as iptables mode's probabilities), no per-endpoint chains except for ClientIP affinity, and
   * hairpin masquerade by a set lookup in `masquerading`. Anonymous verdict maps make the kernel's commit-time loop
   * check scale with maps × jumps, and the number of chains is what every `nft -f` pays to read back, so `flat`
   * loads and changes several times faster at 10,000 services (see bench/proxy.ts).
   */
  layout?: NftLayout;
}

export type NftLayout = 'upstream' | 'flat';

/** NftChain is a chain: its declaration suffix (`{ type nat hook … ; }` for base chains, else '') and its rules. */
export interface NftChain {
  spec: string;
  rules: string[];
}

/** NftSet is a set or map: its declaration body and its elements, keyed by the element's key. */
export interface NftSet {
  kind: 'set' | 'map';
  spec: string;
  /** key → the element as written between braces (`172.30.0.41 . tcp . 80 : goto service-…`). */
  elements: Map<string, string>;
}

/** NftRuleset is the whole table. */
export interface NftRuleset {
  chains: Map<string, NftChain>;
  sets: Map<string, NftSet>;
}

export const NFT_TABLE = 'kube-proxy';
export const NFT_FAMILY = 'ip';
const T = `${NFT_FAMILY} ${NFT_TABLE}`;

const BASE_CHAINS: readonly [string, string][] = [
  ['filter-prerouting-pre-dnat', '{ type filter hook prerouting priority -110 ; }'],
  ['filter-output-pre-dnat', '{ type filter hook output priority -110 ; }'],
  ['filter-input', '{ type filter hook input priority 0 ; }'],
  ['filter-forward', '{ type filter hook forward priority 0 ; }'],
  ['filter-output', '{ type filter hook output priority 0 ; }'],
  ['nat-prerouting', '{ type nat hook prerouting priority -100 ; }'],
  ['nat-output', '{ type nat hook output priority -100 ; }'],
  ['nat-postrouting', '{ type nat hook postrouting priority 100 ; }'],
];

/** Jumps from base chains, in upstream's order (nftablesJumpChains). */
const JUMPS: readonly [string, string, string][] = [
  ['nodeport-endpoints-check', 'filter-input', 'ct state new'],
  ['service-endpoints-check', 'filter-input', 'ct state new'],
  ['service-endpoints-check', 'filter-forward', 'ct state new'],
  ['service-endpoints-check', 'filter-output', 'ct state new'],
  ['firewall-check', 'filter-prerouting-pre-dnat', 'ct state new'],
  ['firewall-check', 'filter-output-pre-dnat', 'ct state new'],
  ['services', 'nat-output', ''],
  ['services', 'nat-prerouting', ''],
  ['masquerading', 'nat-postrouting', ''],
  ['cluster-ips-check', 'filter-forward', 'ct state new'],
  ['cluster-ips-check', 'filter-output', 'ct state new'],
];

const ADDR = 'ipv4_addr';
const SERVICE_KEY = `${ADDR} . inet_proto . inet_service`;
const HAIRPIN_SET = 'hairpin-endpoints';

/** NftFragment is what one service port adds to the table: its chains, its affinity sets, its map and set elements. */
export interface NftFragment {
  chains: Map<string, NftChain>;
  sets: Map<string, NftSet>;
  /** [set or map, key, element text]; several service ports may share one (cluster-ips, hairpin-endpoints). */
  elements: [string, string, string][];
}

/** renderNftables computes the table for a set of service ports: the skeleton plus every service port's fragment. */
export function renderNftables(input: NftRenderInput): NftRuleset {
  return mergeNftables(
    renderNftSkeleton(input),
    input.servicePorts.map((sp) => renderNftServicePort(sp, input)),
  );
}

/** mergeNftables puts fragments into a skeleton (a new ruleset, sorted). */
export function mergeNftables(skeleton: NftRuleset, fragments: Iterable<NftFragment>): NftRuleset {
  const chains = new Map(skeleton.chains);
  const sets = new Map([...skeleton.sets].map(([name, s]) => [name, { ...s, elements: new Map(s.elements) }]));
  for (const f of fragments) {
    for (const [name, c] of f.chains) chains.set(name, c);
    for (const [name, s] of f.sets) sets.set(name, s);
    for (const [set, key, text] of f.elements) sets.get(set)?.elements.set(key, text);
  }
  return { chains: sortedMap(chains), sets: sortedMap(sets) };
}

/** renderNftSkeleton is the fixed part of the table (upstream's setupNFTables), with empty maps and sets. */
export function renderNftSkeleton(input: Omit<NftRenderInput, 'servicePorts'>): NftRuleset {
  const layout = input.layout ?? 'flat';
  const mark = `0x${(1 << input.masqueradeBit).toString(16)}`;
  const chains = new Map<string, NftChain>();
  const sets = new Map<string, NftSet>();
  const chain = (name: string, spec = '') => {
    let c = chains.get(name);
    if (!c) chains.set(name, (c = { spec, rules: [] }));
    return c;
  };
  const rule = (name: string, text: string) => chain(name).rules.push(text);
  const set = (name: string, kind: NftSet['kind'], spec: string) => {
    let s = sets.get(name);
    if (!s) sets.set(name, (s = { kind, spec, elements: new Map() }));
    return s;
  };
  const element = (setName: string, key: string, value?: string, comment?: string) => {
    const c = comment === undefined ? '' : ` comment "${comment}"`;
    sets.get(setName)!.elements.set(key, value === undefined ? `${key}${c}` : `${key}${c} : ${value}`);
  };
  const matchAll = input.nodePortAddresses.length === 0;

  // The fixed skeleton (upstream's setupNFTables).
  for (const [name, spec] of BASE_CHAINS) chain(name, spec);
  for (const [to, from, extra] of JUMPS) {
    chain(to);
    rule(from, `${extra ? `${extra} ` : ''}jump ${to}`);
  }
  chain('mark-for-masquerade');
  rule('mark-for-masquerade', `mark set mark or ${mark}`);
  if (layout === 'flat') {
    set(HAIRPIN_SET, 'set', `{ type ${ADDR} . ${ADDR} ; comment "endpoints reaching themselves through a service" ; }`);
    rule(
      'masquerading',
      `ct status dnat ip saddr . ip daddr @${HAIRPIN_SET} masquerade fully-random comment "hairpin"`,
    );
  }
  rule('masquerading', `mark and ${mark} == 0 return`);
  rule('masquerading', `mark set mark xor ${mark}`);
  rule('masquerading', 'masquerade fully-random');
  set('cluster-ips', 'set', `{ type ${ADDR} ; comment "Active ClusterIPs" ; }`);
  rule('cluster-ips-check', 'ip daddr @cluster-ips reject comment "Reject traffic to invalid ports of ClusterIPs"');
  if (input.serviceCIDRs && input.serviceCIDRs.length > 0) {
    rule(
      'cluster-ips-check',
      `ip daddr { ${input.serviceCIDRs.join(', ')} } drop comment "Drop traffic to unallocated ClusterIPs"`,
    );
  }
  if (!matchAll) {
    set('nodeport-ips', 'set', `{ type ${ADDR} ; comment "IPs that accept NodePort traffic" ; }`);
    // Localhost NodePorts are not supported in nftables mode (as upstream).
    for (const ip of input.nodeIPs) if (!ip.startsWith('127.')) element('nodeport-ips', ip);
  }
  set(
    'no-endpoint-services',
    'map',
    `{ type ${SERVICE_KEY} : verdict ; comment "vmap to drop or reject packets to services with no endpoints" ; }`,
  );
  set(
    'no-endpoint-nodeports',
    'map',
    '{ type inet_proto . inet_service : verdict ; comment "vmap to drop or reject packets to service nodeports with no endpoints" ; }',
  );
  chain('reject-chain', '{ comment "helper for @no-endpoint-services / @no-endpoint-nodeports" ; }');
  rule('reject-chain', 'reject');
  rule('service-endpoints-check', 'ip daddr . meta l4proto . th dport vmap @no-endpoint-services');
  const nodePortDestination = matchAll ? 'ip daddr != 127.0.0.0/8' : 'ip daddr @nodeport-ips';
  rule('nodeport-endpoints-check', `${nodePortDestination} meta l4proto . th dport vmap @no-endpoint-nodeports`);
  set(
    'firewall-ips',
    'map',
    `{ type ${SERVICE_KEY} : verdict ; comment "destinations that are subject to LoadBalancerSourceRanges" ; }`,
  );
  rule('firewall-check', 'ip daddr . meta l4proto . th dport vmap @firewall-ips');
  set(
    'service-ips',
    'map',
    `{ type ${SERVICE_KEY} : verdict ; comment "ClusterIP, ExternalIP and LoadBalancer IP traffic" ; }`,
  );
  set('service-nodeports', 'map', '{ type inet_proto . inet_service : verdict ; comment "NodePort traffic" ; }');
  rule('services', 'ip daddr . meta l4proto . th dport vmap @service-ips');
  rule(
    'services',
    `${matchAll ? 'fib daddr type local ip daddr != 127.0.0.0/8' : 'ip daddr @nodeport-ips'} meta l4proto . th dport vmap @service-nodeports`,
  );

  return { chains: sortedMap(chains), sets: sortedMap(sets) };
}

/** renderNftServicePort is one service port's map elements, chains and sets (upstream's per-service loop). */
export function renderNftServicePort(sp: ServicePort, input: Omit<NftRenderInput, 'servicePorts'>): NftFragment {
  const layout = input.layout ?? 'flat';
  const fragment: NftFragment = { chains: new Map(), sets: new Map(), elements: [] };
  const w = {
    chain(name: string): NftChain {
      let c = fragment.chains.get(name);
      if (!c) fragment.chains.set(name, (c = { spec: '', rules: [] }));
      return c;
    },
    rule(name: string, text: string): void {
      w.chain(name).rules.push(text);
    },
    set(name: string, kind: NftSet['kind'], spec: string): void {
      fragment.sets.set(name, { kind, spec, elements: new Map() });
    },
    element(setName: string, key: string, value?: string, comment?: string): void {
      const c = comment === undefined ? '' : ` comment "${comment}"`;
      fragment.elements.push([setName, key, value === undefined ? `${key}${c}` : `${key}${c} : ${value}`]);
    },
  };
  const proto = sp.protocol.toLowerCase();
  const base = nftServicePortBase(sp.name, sp.protocol);
  const clusterChain = `service-${base}`;
  const localChain = `local-${base}`;
  const externalChain = `external-${base}`;
  const firewallChain = `firewall-${base}`;
  const {
    clusterEndpoints,
    localEndpoints,
    allReachable,
    hasAnyEndpoints,
    hasInternalEndpoints,
    hasExternalEndpoints,
    usesExternalChain,
  } = sp.plan;
  const affinity = sp.sessionAffinityTimeout !== undefined;
  const internalChain = sp.internalPolicyLocal ? localChain : clusterChain;
  const externalPolicyChain = sp.externalPolicyLocal ? localChain : clusterChain;
  const verdict = !hasAnyEndpoints ? 'goto reject-chain' : 'drop';
  const key = (ip: string) => `${ip} . ${proto} . ${sp.port}`;
  const endpointChains = layout === 'upstream' || affinity;

  // Dispatch: map elements.
  w.element('cluster-ips', sp.clusterIP);
  if (hasInternalEndpoints) w.element('service-ips', key(sp.clusterIP), `goto ${internalChain}`);
  else w.element('no-endpoint-services', key(sp.clusterIP), verdict, sp.name);
  for (const ip of sp.externalIPs) {
    if (hasAnyEndpoints) w.element('service-ips', key(ip), `goto ${externalChain}`);
    if (!hasExternalEndpoints) w.element('no-endpoint-services', key(ip), verdict, sp.name);
  }
  // Upstream writes the firewall chain whenever there are LB IPs and source ranges, endpoints or not.
  const usesFirewall = sp.loadBalancerIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
  for (const ip of sp.loadBalancerIPs) {
    if (hasAnyEndpoints) w.element('service-ips', key(ip), `goto ${externalChain}`);
    if (usesFirewall) w.element('firewall-ips', key(ip), `goto ${firewallChain}`);
  }
  if (!hasExternalEndpoints)
    for (const ip of sp.loadBalancerIPs) w.element('no-endpoint-services', key(ip), verdict, sp.name);
  if (sp.nodePort !== 0) {
    const npKey = `${proto} . ${sp.nodePort}`;
    if (hasAnyEndpoints) w.element('service-nodeports', npKey, `goto ${externalChain}`);
    if (!hasExternalEndpoints) w.element('no-endpoint-nodeports', npKey, verdict, sp.name);
  }

  // ClusterIP traffic from outside the pod network is masqueraded.
  if (hasInternalEndpoints) {
    if (input.masqueradeAll) w.rule(internalChain, `ip daddr ${sp.clusterIP} jump mark-for-masquerade`);
    else if (input.clusterCIDR)
      w.rule(internalChain, `ip daddr ${sp.clusterIP} ip saddr != ${input.clusterCIDR} jump mark-for-masquerade`);
  }
  // The external chain: masquerade (Cluster policy) or short-circuit pod and host traffic (Local policy).
  if (usesExternalChain) {
    w.chain(externalChain);
    if (!sp.externalPolicyLocal) {
      w.rule(externalChain, 'jump mark-for-masquerade');
    } else {
      // The short-circuits go to the cluster chain, which exists only with Cluster-policy endpoints.
      const shortCircuit = clusterEndpoints.length > 0;
      if (input.clusterCIDR && shortCircuit)
        w.rule(externalChain, `ip saddr ${input.clusterCIDR} goto ${clusterChain} comment "short-circuit pod traffic"`);
      w.rule(externalChain, 'fib saddr type local jump mark-for-masquerade comment "masquerade local traffic"');
      if (shortCircuit)
        w.rule(externalChain, `fib saddr type local goto ${clusterChain} comment "short-circuit local traffic"`);
    }
    if (hasExternalEndpoints) w.rule(externalChain, `goto ${externalPolicyChain}`);
  }
  if (usesFirewall) w.rule(firewallChain, `ip saddr != { ${sp.loadBalancerSourceRanges.join(', ')} } drop`);

  // Affinity sets, one per endpoint (upstream's).
  const epBase = (ep: Endpoint) => nftEndpointBase(sp.name, sp.protocol, ep.ip, ep.port);
  if (affinity) {
    for (const ep of allReachable)
      w.set(
        `affinity-${epBase(ep)}`,
        'set',
        `{ type ${ADDR} ; flags dynamic,timeout ; timeout ${sp.sessionAffinityTimeout}s ; }`,
      );
  }
  // Endpoint selection.
  const balance = (name: string, endpoints: readonly Endpoint[]) => {
    if (endpoints.length === 0) return;
    w.chain(name);
    if (affinity)
      for (const ep of endpoints) w.rule(name, `ip saddr @affinity-${epBase(ep)} goto endpoint-${epBase(ep)}`);
    if (layout === 'upstream') {
      w.rule(
        name,
        `numgen random mod ${endpoints.length} vmap { ${endpoints.map((ep, i) => `${i} : goto endpoint-${epBase(ep)}`).join(' , ')} }`,
      );
      return;
    }
    endpoints.forEach((ep, i) => {
      const left = endpoints.length - i;
      const pick = left > 1 ? `numgen random mod ${left} 0 ` : '';
      w.rule(
        name,
        endpointChains ? `${pick}goto endpoint-${epBase(ep)}` : `${pick}meta l4proto ${proto} dnat to ${ep.address}`,
      );
    });
  };
  if (clusterEndpoints.length > 0) balance(clusterChain, clusterEndpoints);
  if (localEndpoints.length > 0) balance(localChain, localEndpoints);
  for (const ep of allReachable) {
    if (layout === 'flat') w.element(HAIRPIN_SET, `${ep.ip} . ${ep.ip}`);
    if (!endpointChains) continue;
    const name = `endpoint-${epBase(ep)}`;
    w.rule(name, `ip saddr ${ep.ip} jump mark-for-masquerade`);
    if (affinity) w.rule(name, `update @affinity-${epBase(ep)} { ip saddr }`);
    w.rule(name, `meta l4proto ${proto} dnat to ${ep.address}`);
  }
  return fragment;
}

function sortedMap<V>(map: Map<string, V>): Map<string, V> {
  return new Map([...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** isServiceChain tells the per-service chains (their names hold a `/`) from the fixed ones. */
export function isNftServiceChain(name: string): boolean {
  return name.includes('/');
}

/**
 * nftScript prints a whole ruleset as `nft -f` input: the table, sets and maps, chains, rules, then elements.
 * With replace, the table is deleted first in the same transaction, so the kernel swaps old for new atomically.
 */
export function nftScript(ruleset: NftRuleset, options: { replace?: boolean } = {}): string {
  const out: string[] = [];
  if (options.replace) out.push(`add table ${T}`, `delete table ${T}`);
  out.push(`add table ${T} { comment "rules for kube-proxy" ; }`);
  for (const [name, s] of ruleset.sets) out.push(`add ${s.kind} ${T} ${name} ${s.spec}`);
  for (const [name, c] of ruleset.chains) out.push(`add chain ${T} ${name}${c.spec ? ` ${c.spec}` : ''}`);
  for (const [name, c] of ruleset.chains) for (const r of c.rules) out.push(`add rule ${T} ${name} ${r}`);
  for (const [name, s] of ruleset.sets)
    for (const e of s.elements.values()) out.push(`add element ${T} ${name} { ${e} }`);
  return `${out.join('\n')}\n`;
}

/** countNftRules is the number of rules in a ruleset (for the rule-count metrics). */
export function countNftRules(ruleset: NftRuleset): number {
  let n = 0;
  for (const c of ruleset.chains.values()) n += c.rules.length;
  return n;
}
