import { HostCommandError, run } from './run.ts';

/** ConntrackFilter selects UDP conntrack entries: by original destination, destination port, DNAT'd destination. */
export interface ConntrackFilter {
  origDst?: string;
  dport?: number;
  dstNat?: string;
}

/**
 * ConntrackHost is what kube-proxy needs of the connection tracking table (hostConntrack runs `conntrack`; unit tests
 * pass src/proxy/testing/fake-conntrack.ts).
 */
export interface ConntrackHost {
  /** clearUdp deletes the UDP entries matching filter (none matching is fine). */
  clearUdp(filter: ConntrackFilter): Promise<void>;
}

/** hostConntrack is the host's conntrack table, through the `conntrack` tool. */
export const hostConntrack: ConntrackHost = { clearUdp: clearUdpConntrack };

/**
 * clearUdpConntrack deletes conntrack entries that would keep sending UDP to an endpoint that is gone (TCP needs
 * nothing: new connections get new entries). `conntrack -D` exits 1 when nothing matched, which is fine.
 */
export async function clearUdpConntrack(filter: ConntrackFilter): Promise<void> {
  const argv = ['conntrack', '-D', '-p', 'udp'];
  if (filter.origDst) argv.push('--orig-dst', filter.origDst);
  if (filter.dport) argv.push('--dport', String(filter.dport));
  if (filter.dstNat) argv.push('--dst-nat', filter.dstNat);
  try {
    await run(argv, { timeoutMs: 10_000 });
  } catch (error) {
    if (error instanceof HostCommandError && error.exitCode === 1) return;
    throw error;
  }
}
