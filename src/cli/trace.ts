import { readFile } from 'node:fs/promises';
import { DEFAULTS } from '../cluster/layout.ts';
import { formatTrace, type TracePacket } from '../proxy/trace.ts';
import { traceIptables } from '../proxy/trace-iptables.ts';
import { traceNftables } from '../proxy/trace-nftables.ts';
import { HostCommandError, run } from '../sys/run.ts';
import { FlagError, parseFlags, usage, type FlagSpecs } from './flags.ts';

const FLAGS: FlagSpecs = {
  from: {
    type: 'string',
    help: 'Source address of the packet (a pod, another host, or the node itself with --from-node)',
  },
  to: { type: 'string', help: 'Destination as IP:PORT[/tcp|udp|sctp] (a ClusterIP, NodePort, external or LB IP)' },
  filename: {
    type: 'string',
    short: 'f',
    help: 'A ruleset file: iptables-save output, `proxy render` output, or nftables (`nft list table ip kube-proxy` or `proxy render --proxy-mode=nftables`); - reads stdin',
  },
  node: { type: 'string', help: 'Trace on this node of a `tskube up` cluster (live rules and counters; needs root)' },
  name: { type: 'string', default: DEFAULTS.name, help: 'Cluster name, with --node' },
  'state-dir': {
    type: 'string',
    help: "Accepted like the other cluster commands' flag; not needed: the node is found by --name",
  },
  'local-ips': {
    type: 'strings',
    default: [],
    help: "The node's own addresses, with -f (addrtype LOCAL, NodePorts); --node reads them",
  },
  'from-node': {
    type: 'bool',
    default: false,
    help: 'The packet starts on the node itself (OUTPUT) instead of arriving (PREROUTING)',
  },
  affinity: { type: 'string', help: 'The source already has ClientIP affinity to this endpoint IP:PORT' },
  help: { type: 'bool', short: 'h', default: false, help: 'help for trace' },
};

/** main is `tskube trace`: follows a packet through kube-proxy's rules (either mode) and prints each branch. */
export async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, FLAGS);
  if (values.help) {
    process.stdout.write(
      usage(
        'tskube trace --from IP --to IP:PORT[/PROTO] (-f FILE | --node NODE)',
        "Follows a new connection through kube-proxy's iptables or nftables rules: chains and rules crossed, endpoint choices with their probabilities, affinity and masquerade, live counters.",
        FLAGS,
      ),
    );
    return 0;
  }
  const to = /^(\d+\.\d+\.\d+\.\d+):(\d+)(?:\/(tcp|udp|sctp))?$/i.exec(String(values.to ?? ''));
  if (!values.from || !to) throw new FlagError('trace needs --from IP and --to IP:PORT[/tcp|udp|sctp]');
  if (!values.filename === !values.node) throw new FlagError('trace needs exactly one of -f FILE and --node NODE');
  let rules: string;
  let localIPs = values['local-ips'] as string[];
  if (values.node) {
    const netns = `${values.name}-${values.node}`;
    const inNode = (cmd: string[]) =>
      run(['nsenter', `--net=/run/netns/${netns}`, '--', ...cmd], { timeoutMs: 600_000 });
    const nft = await inNode(['nft', 'list', 'table', 'ip', 'kube-proxy']).then(
      (r) => r.stdout,
      (error) => {
        if (error instanceof HostCommandError && /No such file or directory/.test(error.stderr)) return '';
        throw error;
      },
    );
    rules = nft !== '' ? nft : (await inNode(['iptables-save', '-c'])).stdout;
    const addrs = (await inNode(['ip', '-4', '-o', 'addr', 'show'])).stdout;
    localIPs = [...localIPs, ...[...addrs.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\//g)].map((m) => m[1]!)];
  } else {
    rules = values.filename === '-' ? await readStdin() : await readFile(values.filename as string, 'utf8');
  }
  const packet: TracePacket = {
    src: values.from as string,
    dst: to[1]!,
    dport: Number(to[2]),
    protocol: (to[3] ?? 'tcp').toLowerCase() as TracePacket['protocol'],
    localIPs,
    fromNode: values['from-node'] as boolean,
    affinityTo: values.affinity as string | undefined,
  };
  const nftables = /^(add |table |\s*chain )/m.test(rules) && !/^\*nat/m.test(rules);
  process.stdout.write(
    `${nftables ? 'nftables' : 'iptables'}: ${packet.src} → ${packet.dst}:${packet.dport}/${packet.protocol}\n`,
  );
  process.stdout.write(formatTrace(nftables ? traceNftables(rules, packet) : traceIptables(rules, packet)));
  return 0;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
