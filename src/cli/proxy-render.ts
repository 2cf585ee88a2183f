import { readFile } from 'node:fs/promises';
import { readManifests } from '../proxy/manifest-input.ts';
import { renderIptables } from '../proxy/render-iptables.ts';
import { nftScript, renderNftables } from '../proxy/render-nftables.ts';
import { buildServicePorts } from '../proxy/service-ports.ts';
import { FlagError, parseFlags, usage, type FlagSpecs } from './flags.ts';

const FLAGS: FlagSpecs = {
  filename: {
    type: 'strings',
    short: 'f',
    default: [],
    help: 'YAML files with Services, EndpointSlices and (optionally) the Node; - reads stdin',
  },
  'proxy-mode': {
    type: 'string',
    default: 'iptables',
    help: "Which rules to print: 'iptables' (iptables-restore input) or 'nftables' (nft -f input)",
  },
  'nftables-layout': {
    type: 'string',
    default: 'flat',
    help: "nftables endpoint selection: 'flat' (tskube's, faster) or 'upstream' (numgen vmap and a chain per endpoint)",
  },
  'hostname-override': {
    type: 'string',
    help: 'The node whose rules to render (endpoints on it are local); defaults to the only Node in the files',
  },
  'cluster-cidr': { type: 'string', help: 'The pod CIDR: traffic from outside it to a ClusterIP is masqueraded' },
  'masquerade-all': { type: 'bool', default: false, help: 'Masquerade all traffic sent to ClusterIPs' },
  'iptables-masquerade-bit': {
    type: 'int',
    default: 14,
    help: 'The bit of the fwmark space that marks packets needing SNAT',
  },
  'iptables-localhost-nodeports': { type: 'bool', default: true, help: 'NodePorts answer on 127.0.0.0/8 too' },
  help: { type: 'bool', short: 'h', default: false, help: 'help for render' },
};

/** render prints the iptables-restore (or nft -f) input a full sync would apply for the objects in the files. */
export async function render(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, FLAGS);
  const files = values.filename as string[];
  if (values.help) {
    process.stdout.write(
      usage(
        'tskube proxy render -f FILE...',
        'Print the iptables-restore input (or with --proxy-mode=nftables the nft -f input) kube-proxy would apply for these Services and EndpointSlices (no root, no API server).',
        FLAGS,
      ),
    );
    return 0;
  }
  if (files.length === 0)
    throw new FlagError('required flag(s) "filename" not set: give the YAML files with -f FILE (or -f - for stdin)');
  const texts = await Promise.all(files.map((f) => (f === '-' ? readStdin() : readInput(f))));
  const objects = readManifests(texts);
  const nodeName =
    (values['hostname-override'] as string | undefined) ??
    (objects.nodes.length === 1 ? (objects.nodes[0]!.metadata?.name ?? '') : '');
  const node = objects.nodes.find((n) => n.metadata?.name === nodeName);
  const nodeIPs = (node?.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address);
  const servicePorts = buildServicePorts({
    services: objects.services,
    endpointSlices: objects.endpointSlices,
    nodeName,
  });
  const mode = values['proxy-mode'] as string;
  if (mode === 'nftables') {
    const layout = values['nftables-layout'] as string;
    if (layout !== 'flat' && layout !== 'upstream') {
      process.stderr.write(`Error: invalid --nftables-layout "${layout}": must be flat or upstream\n`);
      return 2;
    }
    const ruleset = renderNftables({
      servicePorts,
      clusterCIDR: values['cluster-cidr'] as string | undefined,
      masqueradeAll: values['masquerade-all'] as boolean,
      masqueradeBit: values['iptables-masquerade-bit'] as number,
      nodePortAddresses: [],
      nodeIPs,
      layout,
    });
    process.stdout.write(nftScript(ruleset));
    return 0;
  }
  if (mode !== 'iptables') {
    process.stderr.write(`Error: invalid --proxy-mode "${mode}": must be iptables or nftables\n`);
    return 2;
  }
  const result = renderIptables({
    servicePorts,
    clusterCIDR: values['cluster-cidr'] as string | undefined,
    masqueradeAll: values['masquerade-all'] as boolean,
    masqueradeBit: values['iptables-masquerade-bit'] as number,
    localhostNodePorts: values['iptables-localhost-nodeports'] as boolean,
    nodePortAddresses: [],
    nodeIPs,
  });
  process.stdout.write(result.text);
  return 0;
}

async function readInput(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR')
      throw new Error(
        `Cannot read "${file}": ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : 'is a directory'}`,
      );
    throw error;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
