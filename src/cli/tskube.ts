/**
 * tskube is the one binary: `tskube <subcommand> [flags]`, subcommands named after the upstream binaries they stand
 * for. Each lives in src/cli/<subcommand>.ts and exports `main(argv)`; it is imported only when used.
 */
const SUBCOMMANDS: Record<string, string> = {
  apiserver: 'Kubernetes API server (kube-apiserver)',
  'controller-manager':
    'Controllers: deployments, replicasets, endpoints, node IPAM, garbage collection (kube-controller-manager)',
  scheduler: 'Binds pods to nodes (kube-scheduler)',
  kubelet: 'Node agent: registers the node, runs its pods (kubelet)',
  proxy: 'Programs Service VIPs into iptables or nftables (kube-proxy)',
  trace: "Follows a packet through a node's kube-proxy rules (or a ruleset file)",
  dns: 'Cluster DNS: Services and pods by name (what CoreDNS is in kubeadm clusters)',
  flatnet: "Flat pod network: routes to every node's pod subnet, FORWARD accept",
  up: "Brings up the lab's multi-node cluster on this machine",
  down: 'Stops a cluster started by up and removes everything it made',
  status: 'Lists the components of a cluster started by up',
  logs: 'Prints the log of a component of a cluster started by up',
  exec: "Runs a command in a node's network namespace",
  supervise: 'Keeps the components of a cluster started by up running (started by up)',
  probe: 'Runs one network probe (tcp, http, grpc) from the current network namespace (for the kubelet)',
};

async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(overview());
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'version' || sub === '--version') {
    const { readFile } = await import('node:fs/promises');
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    process.stdout.write(`tskube v${pkg.version} (node ${process.version})\n`);
    return 0;
  }
  if (!(sub in SUBCOMMANDS)) {
    process.stderr.write(`Error: unknown command "${sub}" for "tskube"\nRun 'tskube --help' for usage.\n`);
    return 2;
  }
  const file = ['down', 'status', 'logs', 'exec'].includes(sub) ? 'up' : sub;
  const module = (await import(`./${file}.ts`)) as { main(argv: string[], sub?: string): Promise<number> };
  return module.main(rest, sub);
}

function overview(): string {
  const width = Math.max(...Object.keys(SUBCOMMANDS).map((s) => s.length));
  const lines = Object.entries(SUBCOMMANDS).map(([name, text]) => `  ${name.padEnd(width)}  ${text}`);
  return `tskube: Kubernetes Services, kube-proxy and cluster networking, in TypeScript\n\nUsage:\n  tskube <command> [flags]\n\nCommands:\n${lines.join('\n')}\n`;
}

const argv = process.argv.slice(2);
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const usageError = error instanceof Error && error.name === 'FlagError';
    process.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
    if (usageError)
      process.stderr.write(
        `Run 'tskube ${argv[0] === 'proxy' && argv[1] === 'render' ? 'proxy render' : argv[0]} --help' for usage.\n`,
      );
    if (process.env.TSKUBE_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    process.exitCode = usageError ? 2 : 1;
  },
);
