import { HostCommandError, run } from './run.ts';

/**
 * clearUdpConntrack deletes conntrack entries that would keep sending UDP to an endpoint that is gone (TCP needs
 * nothing: new connections get new entries). `conntrack -D` exits 1 when nothing matched, which is fine.
 */
export async function clearUdpConntrack(filter: { origDst?: string; dport?: number; dstNat?: string }): Promise<void> {
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
