/**
 * JUMP_RULES are the rules kube-proxy puts at the top of the built-in chains so traffic reaches its own chains
 * (upstream's iptablesJumpChains and the kubelet-era KUBE-FIREWALL jumps). They are ensured with `iptables -C`
 * then `-I` on full syncs, and removed by --cleanup; nothing else in the built-in chains is touched.
 */
export interface JumpRule {
  table: 'filter' | 'nat';
  /** The built-in chain holding the jump. */
  from: string;
  /** The kube-proxy chain jumped to. */
  to: string;
  /** Match arguments, before the jump (upstream's order: extra args, then the comment). */
  args: readonly string[];
}

function jump(
  table: JumpRule['table'],
  from: string,
  to: string,
  comment: string | undefined,
  extra: string[] = [],
): JumpRule {
  return { table, from, to, args: [...extra, ...(comment ? ['-m', 'comment', '--comment', comment] : [])] };
}

const NEW = ['-m', 'conntrack', '--ctstate', 'NEW'];

export const JUMP_RULES: readonly JumpRule[] = [
  jump('filter', 'INPUT', 'KUBE-EXTERNAL-SERVICES', 'kubernetes externally-visible service portals', NEW),
  jump('filter', 'FORWARD', 'KUBE-EXTERNAL-SERVICES', 'kubernetes externally-visible service portals', NEW),
  jump('filter', 'INPUT', 'KUBE-NODEPORTS', 'kubernetes health check service ports'),
  jump('filter', 'FORWARD', 'KUBE-SERVICES', 'kubernetes service portals', NEW),
  jump('filter', 'OUTPUT', 'KUBE-SERVICES', 'kubernetes service portals', NEW),
  jump('filter', 'FORWARD', 'KUBE-FORWARD', 'kubernetes forwarding rules'),
  jump('filter', 'INPUT', 'KUBE-PROXY-FIREWALL', 'kubernetes load balancer firewall', NEW),
  jump('filter', 'OUTPUT', 'KUBE-PROXY-FIREWALL', 'kubernetes load balancer firewall', NEW),
  jump('filter', 'FORWARD', 'KUBE-PROXY-FIREWALL', 'kubernetes load balancer firewall', NEW),
  jump('filter', 'INPUT', 'KUBE-FIREWALL', undefined),
  jump('filter', 'OUTPUT', 'KUBE-FIREWALL', undefined),
  jump('nat', 'OUTPUT', 'KUBE-SERVICES', 'kubernetes service portals'),
  jump('nat', 'PREROUTING', 'KUBE-SERVICES', 'kubernetes service portals'),
  jump('nat', 'POSTROUTING', 'KUBE-POSTROUTING', 'kubernetes postrouting rules'),
];

/** OWNED_CHAINS are every top-level chain kube-proxy creates, per table (for --cleanup). */
export const OWNED_CHAINS = {
  filter: [
    'KUBE-NODEPORTS',
    'KUBE-SERVICES',
    'KUBE-EXTERNAL-SERVICES',
    'KUBE-FIREWALL',
    'KUBE-FORWARD',
    'KUBE-PROXY-FIREWALL',
  ],
  nat: ['KUBE-NODEPORTS', 'KUBE-SERVICES', 'KUBE-MARK-MASQ', 'KUBE-POSTROUTING'],
} as const;
