/**
 * The packet a trace follows and what it finds, for both rulesets (trace-iptables.ts, trace-nftables.ts): a new
 * connection's first packet, from a pod, another host, or the node itself, walked through kube-proxy's rules as the
 * kernel would (nat before routing, then filter, then postrouting masquerade), with every random choice expanded
 * into its branches and their probabilities.
 */
export interface TracePacket {
  src: string;
  dst: string;
  dport: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  /** The node's own addresses (addrtype LOCAL, fib type local); 127.0.0.0/8 is always local. */
  localIPs: readonly string[];
  /** The packet comes from the node itself (OUTPUT) rather than in through an interface (PREROUTING). */
  fromNode?: boolean;
  /** The source already has ClientIP affinity to this endpoint (`ip:port`): `recent --rcheck` / `@affinity-…` match. */
  affinityTo?: string;
}

/** TraceOutcome is one way the packet can go, with its probability. */
export interface TraceOutcome {
  probability: number;
  /** `ip:port` after DNAT, or the verdict when none: ACCEPT (no service rule matched), DROP, REJECT. */
  result: string;
  /** Source NAT at postrouting (the masquerade mark, or nftables' hairpin set). */
  masquerade: boolean;
  /** Chains and rules crossed, in order (`CHAIN: rule`), with counters when the ruleset had them. */
  steps: string[];
}

/** TraceResult groups outcomes: the ones with the same result and masquerade merged, sorted by result. */
export function summarize(
  outcomes: readonly TraceOutcome[],
): { result: string; probability: number; masquerade: boolean }[] {
  const byKey = new Map<string, { result: string; probability: number; masquerade: boolean }>();
  for (const o of outcomes) {
    const key = `${o.result}|${o.masquerade}`;
    const entry = byKey.get(key) ?? { result: o.result, probability: 0, masquerade: o.masquerade };
    entry.probability += o.probability;
    byKey.set(key, entry);
  }
  return [...byKey.values()].sort((a, b) => (a.result < b.result ? -1 : a.result > b.result ? 1 : 0));
}

/** ipInCidr tells whether ip is inside cidr (`a.b.c.d/n` or a bare address). */
export function ipInCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split('/');
  const n = bits === undefined ? 32 : Number(bits);
  const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
  return (toInt(ip) & mask) >>> 0 === (toInt(base!) & mask) >>> 0;
}

function toInt(ip: string): number {
  return ip.split('.').reduce((v, p) => ((v << 8) | Number(p)) >>> 0, 0);
}

/** isLocal is addrtype LOCAL / fib type local for the packet's node. */
export function isLocal(ip: string, packet: TracePacket): boolean {
  return ip.startsWith('127.') || packet.localIPs.includes(ip);
}

/** formatTrace prints outcomes for people: each branch's probability, result, masquerade, then its steps. */
export function formatTrace(outcomes: readonly TraceOutcome[]): string {
  const lines: string[] = [];
  for (const o of outcomes) {
    lines.push(`${(o.probability * 100).toFixed(1)}% → ${o.result}${o.masquerade ? ' (masqueraded)' : ''}`);
    for (const s of o.steps) lines.push(`    ${s}`);
  }
  const summary = summarize(outcomes);
  if (summary.length > 1 || outcomes.length > 1) {
    lines.push('summary:');
    for (const s of summary)
      lines.push(`    ${(s.probability * 100).toFixed(1)}% ${s.result}${s.masquerade ? ' (masqueraded)' : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
