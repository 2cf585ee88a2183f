import type { ConntrackFilter, ConntrackHost } from '../../sys/conntrack.ts';

/** FakeConntrackEntry is one tracked flow: its protocol, original destination and port, and where it was DNAT'd. */
export interface FakeConntrackEntry {
  protocol: 'TCP' | 'UDP' | 'SCTP';
  origDst: string;
  dport: number;
  dstNat: string;
}

/**
 * FakeConntrack is an in-memory connection tracking table for unit tests of the proxy loop: `clearUdp` deletes the
 * UDP entries its filter matches, as `conntrack -D -p udp` does, and records the filter.
 */
export class FakeConntrack implements ConntrackHost {
  /** The table's entries; tests add flows here. */
  entries: FakeConntrackEntry[] = [];
  /** Every filter clearUdp was called with, in order. */
  readonly cleared: ConntrackFilter[] = [];

  async clearUdp(filter: ConntrackFilter): Promise<void> {
    this.cleared.push({ ...filter });
    this.entries = this.entries.filter(
      (e) =>
        e.protocol !== 'UDP' ||
        (filter.origDst !== undefined && e.origDst !== filter.origDst) ||
        (filter.dport !== undefined && e.dport !== filter.dport) ||
        (filter.dstNat !== undefined && e.dstNat !== filter.dstNat),
    );
  }
}
