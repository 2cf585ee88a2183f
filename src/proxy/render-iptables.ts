import {
  serviceExternalChainName,
  serviceFirewallChainName,
  servicePortChainName,
  servicePortEndpointChainName,
  servicePortPolicyLocalChainName,
} from './chain-names.ts';
import { OWNED_CHAINS } from './jump-rules.ts';
import type { Endpoint, ServicePort } from './service-ports.ts';

/**
 * RenderInput is everything a sync depends on besides the services: the node and the proxy's configuration.
 */
export interface RenderInput {
  servicePorts: readonly ServicePort[];
  /** clusterCIDR for local-traffic detection (`! -s CIDR` marks for masquerade); none means no masquerade rule. */
  clusterCIDR?: string;
  masqueradeAll: boolean;
  masqueradeBit: number;
  localhostNodePorts: boolean;
  /** nodePortAddresses as CIDRs (empty: every local address). */
  nodePortAddresses: readonly string[];
  /** Local IPv4 addresses matching nodePortAddresses (one KUBE-NODEPORTS jump per address when restricted). */
  nodeIPs: readonly string[];
  /** nfacct counters that exist (upstream's localhost_nps_accepted_pkts, ct_state_invalid_dropped_pkts). */
  nfacctCounters?: readonly string[];
  /** `MASQUERADE --random-fully` (default true; upstream omits it when iptables lacks the option). */
  randomFully?: boolean;
  /** nf_conntrack_tcp_be_liberal is set: no INVALID drop rule. */
  conntrackTCPLiberal?: boolean;
}

/** The nfacct counter upstream counts localhost NodePort packets with. */
export const LOCALHOST_NODEPORTS_COUNTER = 'localhost_nps_accepted_pkts';
/** The nfacct counter upstream counts dropped INVALID packets with. */
export const INVALID_DROPPED_COUNTER = 'ct_state_invalid_dropped_pkts';

export interface RenderOptions {
  /** Partial sync: only these service port names get their chains rewritten (all when undefined). */
  changedServices?: ReadonlySet<string>;
  /** nat chains present in the kernel: per-service ones no longer wanted are flushed and deleted. */
  existingNatChains?: readonly string[];
}

export interface RenderResult {
  /** iptables-restore input (`--noflush`): *filter ... COMMIT *nat ... COMMIT. */
  text: string;
  /** Rules wanted in each table, counting chains not rewritten by a partial sync. */
  ruleCounts: { filter: number; nat: number };
  /** Every per-service nat chain the full ruleset has. */
  natChains: string[];
  /** Per-service chains deleted by this restore. */
  staleChains: string[];
}

const KUBE_MARK_MASQ = 'KUBE-MARK-MASQ';
/** More endpoints than this in total drops comments from endpoint rules, as upstream's large-cluster mode. */
export const LARGE_CLUSTER_ENDPOINTS = 1000;

/** computeProbability is upstream's `fmt.Sprintf("%0.10f", 1.0/float64(n))`. */
export function computeProbability(n: number): string {
  return (1 / n).toFixed(10);
}

/** The fixed chains kube-proxy owns, in declaration order (per-service nat chains follow them, sorted). */
const FILTER_CHAINS = OWNED_CHAINS.filter;
const NAT_CHAINS = OWNED_CHAINS.nat;

/** Rule is one rule of a fixed chain: the chain, then the rule's arguments (without `-A CHAIN`). */
type Rule = readonly [chain: string, args: string];

/**
 * IptablesSkeleton is the part of the ruleset that does not depend on services: the rules that end the fixed chains
 * (after the services' rules in them): NodePort dispatch, masquerade marking, forwarding and localhost guards.
 */
export interface IptablesSkeleton {
  filter: Rule[];
  nat: Rule[];
}

/** IptablesFragment is what one service port adds: rules in the fixed chains, and its own nat chains. */
export interface IptablesFragment {
  /** The service port name (partial syncs rewrite the chains of changed names only). */
  name: string;
  /** Rules in the fixed filter chains (KUBE-SERVICES, KUBE-EXTERNAL-SERVICES, KUBE-NODEPORTS, …). */
  filter: Rule[];
  /** Rules in the fixed nat chains (KUBE-SERVICES, KUBE-NODEPORTS). */
  nat: Rule[];
  /** The service port's own nat chains (KUBE-SVC, -SVL, -EXT, -FW, -SEP), each with its rules (`-A CHAIN …`). */
  chains: Map<string, string[]>;
}

/** IptablesServiceContext is what a service port's rules depend on besides the service port. */
export type IptablesServiceContext = Pick<
  RenderInput,
  'clusterCIDR' | 'masqueradeAll' | 'localhostNodePorts' | 'nfacctCounters'
> & {
  /** Comments are left out of endpoint rules (more than LARGE_CLUSTER_ENDPOINTS endpoints in total). */
  largeCluster: boolean;
};

/**
 * renderIptables computes the iptables-restore input kube-proxy (iptables mode) applies: upstream's chains, rule
 * text and argument order, in a deterministic order (services sorted by name; upstream's order is random and its
 * tests sort it the same way). Pure: same input, same text. Three parts: the skeleton, one fragment per service
 * port, and the assembly (which chains a full or partial sync writes, flushes and deletes).
 */
export function renderIptables(input: RenderInput, options: RenderOptions = {}): RenderResult {
  const totalEndpoints = input.servicePorts.reduce((n, sp) => n + sp.endpoints.length, 0);
  const context: IptablesServiceContext = { ...input, largeCluster: totalEndpoints > LARGE_CLUSTER_ENDPOINTS };
  return assembleIptables(
    renderIptablesSkeleton(input),
    input.servicePorts.map((sp) => renderIptablesServicePort(sp, context)),
    options,
  );
}

/**
 * assembleIptables writes the restore input: every fixed chain declared (so flushed) and rewritten, the services'
 * rules in them before the skeleton's; per-service chains declared and rewritten only for services being rewritten
 * (all on a full sync, options.changedServices on a partial one); stale per-service chains flushed and deleted.
 */
export function assembleIptables(
  skeleton: IptablesSkeleton,
  fragments: readonly IptablesFragment[],
  options: RenderOptions = {},
): RenderResult {
  const filter = new Map<string, string[]>(FILTER_CHAINS.map((c) => [c, []]));
  const nat = new Map<string, string[]>(NAT_CHAINS.map((c) => [c, []]));
  const add = (table: Map<string, string[]>, [chain, args]: Rule) => table.get(chain)!.push(`-A ${chain} ${args}`);
  const serviceChains = new Map<string, string[]>();
  const written = new Set<string>();
  // A partial sync leaves unchanged services' chains alone but still counts their rules (for the metrics).
  let skippedRules = 0;
  for (const f of fragments) {
    for (const rule of f.filter) add(filter, rule);
    for (const rule of f.nat) add(nat, rule);
    const rewrite = options.changedServices === undefined || options.changedServices.has(f.name);
    for (const [chain, rules] of f.chains) {
      written.add(chain);
      if (rewrite) serviceChains.set(chain, rules);
      else skippedRules += rules.length;
    }
  }
  for (const rule of skeleton.filter) add(filter, rule);
  for (const rule of skeleton.nat) add(nat, rule);

  // Stale per-service chains: flushed (declared) and deleted in the same restore.
  const staleChains = (options.existingNatChains ?? []).filter((c) => isPerServiceChain(c) && !written.has(c)).sort();
  const serviceChainNames = [...serviceChains.keys()].sort();
  const lines: string[] = ['*filter'];
  for (const chain of FILTER_CHAINS) lines.push(`:${chain} - [0:0]`);
  for (const chain of FILTER_CHAINS) lines.push(...filter.get(chain)!);
  lines.push('COMMIT', '*nat');
  for (const chain of [...NAT_CHAINS, ...serviceChainNames, ...staleChains]) lines.push(`:${chain} - [0:0]`);
  for (const chain of NAT_CHAINS) lines.push(...nat.get(chain)!);
  for (const chain of serviceChainNames) lines.push(...serviceChains.get(chain)!);
  for (const chain of staleChains) lines.push(`-X ${chain}`);
  lines.push('COMMIT', '');
  let filterRules = 0;
  for (const rules of filter.values()) filterRules += rules.length;
  let natRules = skippedRules;
  for (const rules of nat.values()) natRules += rules.length;
  for (const rules of serviceChains.values()) natRules += rules.length;
  return {
    text: lines.join('\n'),
    ruleCounts: { filter: filterRules, nat: natRules },
    natChains: [...written].sort(),
    staleChains,
  };
}

/** renderIptablesSkeleton is the service-independent rules, which end the fixed chains. */
export function renderIptablesSkeleton(
  input: Pick<
    RenderInput,
    | 'masqueradeBit'
    | 'localhostNodePorts'
    | 'nodePortAddresses'
    | 'nodeIPs'
    | 'nfacctCounters'
    | 'randomFully'
    | 'conntrackTCPLiberal'
  >,
): IptablesSkeleton {
  const mark = `0x${(1 << input.masqueradeBit).toString(16)}`;
  const filter: Rule[] = [];
  const nat: Rule[] = [];
  // The last rule of nat KUBE-SERVICES sends traffic to local addresses on to the NodePorts.
  const nodePortComment =
    '-m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain"';
  if (input.nodePortAddresses.length === 0) {
    // Without localhost NodePorts, 127.0.0.0/8 is kept out (it would be a martian without route_localnet anyway).
    const notLocalhost = input.localhostNodePorts ? '' : ' ! -d 127.0.0.0/8';
    nat.push(['KUBE-SERVICES', `${nodePortComment} -m addrtype --dst-type LOCAL${notLocalhost} -j KUBE-NODEPORTS`]);
  } else {
    for (const ip of input.nodeIPs) {
      if (ip.startsWith('127.') && !input.localhostNodePorts) continue;
      nat.push(['KUBE-SERVICES', `${nodePortComment} -d ${ip} -j KUBE-NODEPORTS`]);
    }
  }
  nat.push(
    [KUBE_MARK_MASQ, `-j MARK --or-mark ${mark}`],
    ['KUBE-POSTROUTING', `-m mark ! --mark ${mark}/${mark} -j RETURN`],
    ['KUBE-POSTROUTING', `-j MARK --xor-mark ${mark}`],
    [
      'KUBE-POSTROUTING',
      `-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${input.randomFully === false ? '' : ' --random-fully'}`,
    ],
  );
  if (input.localhostNodePorts) {
    filter.push([
      'KUBE-FIREWALL',
      '-m comment --comment "block incoming localnet connections" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP',
    ]);
  }
  // INVALID packets are dropped (issues.k8s.io/74839) unless conntrack is liberal about TCP windows.
  if (!input.conntrackTCPLiberal) {
    const counted = input.nfacctCounters?.includes(INVALID_DROPPED_COUNTER)
      ? ` -m nfacct --nfacct-name ${INVALID_DROPPED_COUNTER}`
      : '';
    filter.push(['KUBE-FORWARD', `-m conntrack --ctstate INVALID${counted} -j DROP`]);
  }
  filter.push(
    ['KUBE-FORWARD', `-m comment --comment "kubernetes forwarding rules" -m mark --mark ${mark}/${mark} -j ACCEPT`],
    [
      'KUBE-FORWARD',
      '-m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
    ],
  );
  return { filter, nat };
}

/**
 * renderIptablesServicePort is one service port's rules (upstream's per-service loop): dispatch from the fixed
 * chains by ClusterIP, external IP, load-balancer IP and NodePort; REJECT or DROP when there is nowhere to go; its
 * KUBE-EXT (masquerade, short-circuits), KUBE-FW (source ranges), KUBE-SVC / KUBE-SVL (endpoint choice, affinity)
 * and KUBE-SEP (hairpin masquerade, DNAT) chains. Uses the plan the model carries (sp.plan).
 */
export function renderIptablesServicePort(sp: ServicePort, input: IptablesServiceContext): IptablesFragment {
  const proto = sp.protocol.toLowerCase();
  const svcName = sp.name;
  const clusterChain = servicePortChainName(svcName, sp.protocol);
  const localChain = servicePortPolicyLocalChainName(svcName, sp.protocol);
  const externalChain = serviceExternalChainName(svcName, sp.protocol);
  const firewallChain = serviceFirewallChainName(svcName, sp.protocol);
  const {
    clusterEndpoints,
    localEndpoints,
    allReachable,
    hasAnyEndpoints,
    hasInternalEndpoints,
    hasExternalEndpoints,
    usesExternalChain,
    usesFirewall,
  } = sp.plan;
  const internalChain = sp.internalPolicyLocal ? localChain : clusterChain;
  const externalPolicyChain = sp.externalPolicyLocal ? localChain : clusterChain;
  const match = `-m ${proto} -p ${proto}`;
  const cip = `-d ${sp.clusterIP} --dport ${sp.port}`;
  const comment = (text: string) => `-m comment --comment "${text}"`;
  const fragment: IptablesFragment = { name: svcName, filter: [], nat: [], chains: new Map() };
  const filter = (chain: string, args: string) => fragment.filter.push([chain, args]);
  const nat = (chain: string, args: string) => fragment.nat.push([chain, args]);
  const svcNat = (chain: string, args: string) => fragment.chains.get(chain)!.push(`-A ${chain} ${args}`);
  // Without any endpoint: REJECT ("has no endpoints"); with endpoints elsewhere only: DROP ("has no local endpoints").
  const filterVerdict = hasAnyEndpoints
    ? { target: 'DROP', why: 'has no local endpoints' }
    : { target: 'REJECT', why: 'has no endpoints' };

  // Chains this service uses: KUBE-SVC/SVL, KUBE-EXT, KUBE-FW, KUBE-SEP.
  if (clusterEndpoints.length > 0) fragment.chains.set(clusterChain, []);
  if (localEndpoints.length > 0) fragment.chains.set(localChain, []);
  if (usesExternalChain) fragment.chains.set(externalChain, []);
  if (usesFirewall) fragment.chains.set(firewallChain, []);
  const sepNames = new Map<Endpoint, string>();
  for (const ep of allReachable) {
    const name = servicePortEndpointChainName(svcName, sp.protocol, ep.address);
    sepNames.set(ep, name);
    fragment.chains.set(name, []);
  }

  // ClusterIP.
  if (hasInternalEndpoints) {
    const args = `${comment(`${svcName} cluster IP`)} ${match} ${cip}`;
    if (input.masqueradeAll) svcNat(internalChain, `${args} -j ${KUBE_MARK_MASQ}`);
    else if (input.clusterCIDR) svcNat(internalChain, `${args} ! -s ${input.clusterCIDR} -j ${KUBE_MARK_MASQ}`);
    nat('KUBE-SERVICES', `${args} -j ${internalChain}`);
  } else {
    filter('KUBE-SERVICES', `${comment(`${svcName} ${filterVerdict.why}`)} ${match} ${cip} -j ${filterVerdict.target}`);
  }

  // External destinations: external IPs, load-balancer IPs, the NodePort. With endpoints anywhere they jump to
  // KUBE-EXT (whose short-circuit rules serve pods and the node itself); when external traffic has no endpoint
  // the filter table also drops (or rejects) what KUBE-EXT did not take.
  const externalTarget = usesFirewall ? firewallChain : externalChain;
  for (const ip of sp.externalIPs) {
    const args = `${match} -d ${ip} --dport ${sp.port}`;
    if (hasAnyEndpoints) nat('KUBE-SERVICES', `${comment(`${svcName} external IP`)} ${args} -j ${externalChain}`);
    if (!hasExternalEndpoints)
      filter(
        'KUBE-EXTERNAL-SERVICES',
        `${comment(`${svcName} ${filterVerdict.why}`)} ${args} -j ${filterVerdict.target}`,
      );
  }
  for (const ip of sp.loadBalancerIPs) {
    const args = `${match} -d ${ip} --dport ${sp.port}`;
    if (hasAnyEndpoints) nat('KUBE-SERVICES', `${comment(`${svcName} loadbalancer IP`)} ${args} -j ${externalTarget}`);
    if (usesFirewall)
      filter(
        'KUBE-PROXY-FIREWALL',
        `${comment(`${svcName} traffic not accepted by ${firewallChain}`)} ${args} -j DROP`,
      );
  }
  if (!hasExternalEndpoints) {
    for (const ip of sp.loadBalancerIPs) {
      filter(
        'KUBE-EXTERNAL-SERVICES',
        `${comment(`${svcName} ${filterVerdict.why}`)} ${match} -d ${ip} --dport ${sp.port} -j ${filterVerdict.target}`,
      );
    }
  }
  if (sp.nodePort !== 0) {
    if (hasAnyEndpoints) {
      // Localhost NodePorts are counted through nfacct when the counter exists, as upstream.
      if (input.localhostNodePorts && input.nfacctCounters?.includes(LOCALHOST_NODEPORTS_COUNTER)) {
        nat(
          'KUBE-NODEPORTS',
          `-m comment --comment ${svcName} ${match} -d 127.0.0.0/8 --dport ${sp.nodePort} -m nfacct --nfacct-name ${LOCALHOST_NODEPORTS_COUNTER} -j ${externalChain}`,
        );
      }
      nat('KUBE-NODEPORTS', `-m comment --comment ${svcName} ${match} --dport ${sp.nodePort} -j ${externalChain}`);
    }
    if (!hasExternalEndpoints) {
      filter(
        'KUBE-EXTERNAL-SERVICES',
        `${comment(`${svcName} ${filterVerdict.why}`)} -m addrtype --dst-type LOCAL ${match} --dport ${sp.nodePort} -j ${filterVerdict.target}`,
      );
    }
  }
  if (sp.healthCheckNodePort !== 0) {
    filter(
      'KUBE-NODEPORTS',
      `${comment(`${svcName} health check node port`)} -m tcp -p tcp --dport ${sp.healthCheckNodePort} -j ACCEPT`,
    );
  }

  // KUBE-EXT: mark for masquerade (Cluster policy) or short-circuit pod and host traffic (Local policy).
  if (usesExternalChain) {
    if (!sp.externalPolicyLocal) {
      svcNat(
        externalChain,
        `${comment(`masquerade traffic for ${svcName} external destinations`)} -j ${KUBE_MARK_MASQ}`,
      );
    } else {
      // The short-circuits go to KUBE-SVC, which exists only when Cluster-policy endpoints are in use (not with
      // both policies Local, where upstream would write a jump to a missing chain).
      const shortCircuit = clusterEndpoints.length > 0;
      if (input.clusterCIDR && shortCircuit)
        svcNat(
          externalChain,
          `${comment(`pod traffic for ${svcName} external destinations`)} -s ${input.clusterCIDR} -j ${clusterChain}`,
        );
      svcNat(
        externalChain,
        `${comment(`masquerade LOCAL traffic for ${svcName} external destinations`)} -m addrtype --src-type LOCAL -j ${KUBE_MARK_MASQ}`,
      );
      if (shortCircuit)
        svcNat(
          externalChain,
          `${comment(`route LOCAL traffic for ${svcName} external destinations`)} -m addrtype --src-type LOCAL -j ${clusterChain}`,
        );
    }
    if (hasExternalEndpoints) svcNat(externalChain, `-j ${externalPolicyChain}`);
  }
  // KUBE-FW: only the allowed sources reach KUBE-EXT; the rest falls through to KUBE-PROXY-FIREWALL's DROP.
  if (usesFirewall) {
    for (const range of sp.loadBalancerSourceRanges)
      svcNat(firewallChain, `${comment(`${svcName} loadbalancer IP`)} -s ${range} -j ${externalChain}`);
    svcNat(firewallChain, `${comment(`other traffic to ${svcName} will be dropped by KUBE-PROXY-FIREWALL`)}`);
  }
  // KUBE-SVC / KUBE-SVL: pick an endpoint.
  const sepName = (ep: Endpoint) => sepNames.get(ep) ?? servicePortEndpointChainName(svcName, sp.protocol, ep.address);
  if (clusterEndpoints.length > 0)
    writeBalancing(svcNat, clusterChain, svcName, sp, clusterEndpoints, sepName, input.largeCluster);
  if (localEndpoints.length > 0)
    writeBalancing(svcNat, localChain, svcName, sp, localEndpoints, sepName, input.largeCluster);
  // KUBE-SEP: hairpin masquerade, then DNAT.
  for (const ep of allReachable) {
    const chain = sepName(ep);
    const c = input.largeCluster ? '' : `-m comment --comment ${svcName} `;
    svcNat(chain, `${c}-s ${ep.ip} -j ${KUBE_MARK_MASQ}`);
    const affinity = sp.sessionAffinityTimeout !== undefined ? `-m recent --name ${chain} --set ` : '';
    svcNat(chain, `${c}${affinity}${match} -j DNAT --to-destination ${ep.address}`);
  }
  return fragment;
}

function writeBalancing(
  addNat: (chain: string, rule: string) => void,
  chain: string,
  svcName: string,
  sp: ServicePort,
  endpoints: readonly Endpoint[],
  sepChain: (ep: Endpoint) => string,
  largeCluster: boolean,
): void {
  const comment = (ep: Endpoint) => (largeCluster ? '' : `-m comment --comment "${svcName} -> ${ep.address}" `);
  if (sp.sessionAffinityTimeout !== undefined) {
    for (const ep of endpoints) {
      addNat(
        chain,
        `${comment(ep)}-m recent --name ${sepChain(ep)} --rcheck --seconds ${sp.sessionAffinityTimeout} --reap -j ${sepChain(ep)}`,
      );
    }
  }
  endpoints.forEach((ep, i) => {
    const remaining = endpoints.length - i;
    const statistic = remaining > 1 ? `-m statistic --mode random --probability ${computeProbability(remaining)} ` : '';
    addNat(chain, `${comment(ep)}${statistic}-j ${sepChain(ep)}`);
  });
}

function isPerServiceChain(chain: string): boolean {
  return /^KUBE-(SVC|SVL|EXT|FW|SEP)-/.test(chain);
}
