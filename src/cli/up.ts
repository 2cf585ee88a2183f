import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { down, status, up } from '../cluster/cluster.ts';
import { DEFAULTS, clusterLayout, type ClusterOptions } from '../cluster/layout.ts';
import { FlagError, parseFlags, usage, type FlagSpecs, type FlagValues } from './flags.ts';
import { runAttached } from '../sys/run.ts';

/** Every cluster command finds its cluster by name (or state directory). */
const CLUSTER_FLAGS: FlagSpecs = {
  name: {
    type: 'string',
    default: DEFAULTS.name,
    help: 'Cluster name (namespaces and links are prefixed with it; run several side by side with different --name and --lan-cidr)',
  },
  'state-dir': { type: 'string', help: 'Where the cluster keeps its files (default ~/.tskube/<name>)' },
  help: { type: 'bool', default: false, short: 'h', help: 'help' },
};

/** COMMANDS holds each subcommand's arguments, summary and own flags, so `--help` shows only what applies. */
const COMMANDS: Record<string, { args: string; summary: string; flags: FlagSpecs }> = {
  up: {
    args: '',
    summary:
      "Brings up the lab's cluster on this machine: a LAN namespace, one namespace per node, the control plane, and per node a kubelet, flatnet and kube-proxy. Needs root.",
    flags: {
      ...CLUSTER_FLAGS,
      nodes: { type: 'int', default: DEFAULTS.nodes, help: 'Number of nodes (nodea, nodeb, ...)' },
      lab: {
        type: 'bool',
        default: false,
        help: 'Stop where the lab starts: kubelets on overlapping docker0 172.17.0.1/16, FORWARD DROP, no routes, no kube-proxy',
      },
      repair: { type: 'bool', default: false, help: 'Restart components of a running cluster that stopped' },
      'lan-cidr': {
        type: 'string',
        default: DEFAULTS.lanCidr,
        help: "The nodes' LAN; .1 is the control plane, nodes from .10. It must not overlap any address already on this machine",
      },
      'service-cluster-ip-range': { type: 'string', default: DEFAULTS.serviceCidr, help: 'Service VIPs' },
      'cluster-cidr': {
        type: 'string',
        default: DEFAULTS.clusterCidr,
        help: 'Pod addresses; each node gets a /16 from it',
      },
      'etcd-servers': { type: 'strings', default: [], help: 'Use etcd instead of the embedded SQLite store' },
    },
  },
  down: {
    args: '',
    summary:
      'Stops every process of a cluster started by up (by PID) and removes its namespaces, links and files. Needs root.',
    flags: CLUSTER_FLAGS,
  },
  status: {
    args: '',
    summary:
      'Lists the components of a cluster started by up, with PID, state and log file; exits 1 when the cluster is not up.',
    flags: CLUSTER_FLAGS,
  },
  logs: {
    args: ' COMPONENT [--node NODE]',
    summary:
      'Prints the log of a component: apiserver, controller-manager, scheduler, or with --node: kubelet, flatnet, proxy.',
    flags: {
      ...CLUSTER_FLAGS,
      node: { type: 'string', help: 'The node of a per-node component (kubelet, flatnet, proxy)' },
    },
  },
  exec: {
    args: ' NODE -- COMMAND [ARGS...]',
    summary:
      "Runs a command on a node: in its network and UTS namespaces (hostname nodea, ...), with KUBECONFIG set to the cluster's admin.conf. Needs root.",
    flags: CLUSTER_FLAGS,
  },
};

/** main serves `tskube up`, `down`, `status`, `logs COMPONENT [--node N]` and `exec NODE -- CMD`. */
export async function main(argv: string[], sub = 'up'): Promise<number> {
  const spec = COMMANDS[sub];
  if (!spec) throw new Error(`unknown command "${sub}"`);
  const dashdash = argv.indexOf('--');
  const command = dashdash === -1 ? [] : argv.slice(dashdash + 1);
  const { values, args, given } = parseFlags(dashdash === -1 ? argv : argv.slice(0, dashdash), spec.flags);
  if (values.help) {
    process.stdout.write(usage(`tskube ${sub}${spec.args}`, spec.summary, spec.flags));
    return 0;
  }
  const saved = join(
    (values['state-dir'] as string | undefined) ?? join(process.env.HOME ?? '/root', '.tskube', values.name as string),
    'cluster.json',
  );
  // A cluster that exists keeps the options it was made with; flags shape a new one.
  const exists = existsSync(saved);
  if (exists && sub === 'up') {
    const shaping = ['nodes', 'lab', 'lan-cidr', 'service-cluster-ip-range', 'cluster-cidr', 'etcd-servers'].filter(
      (f) => given.has(f),
    );
    if (shaping.length > 0 && !values.repair)
      process.stderr.write(
        `Warning: cluster "${values.name}" already exists; ${shaping.map((f) => `--${f}`).join(', ')} ignored (it keeps the options it was made with; \`tskube down\` first to change them)\n`,
      );
  }
  const options: ClusterOptions = exists
    ? { ...JSON.parse(readFileSync(saved, 'utf8')), stateDir: values['state-dir'] as string | undefined }
    : {
        name: values.name as string,
        nodes: values.nodes as number,
        lab: values.lab as boolean,
        lanCidr: values['lan-cidr'] as string,
        serviceCidr: values['service-cluster-ip-range'] as string,
        clusterCidr: values['cluster-cidr'] as string,
        etcdServers: values['etcd-servers'] as string[],
        stateDir: values['state-dir'] as string | undefined,
      };
  if (process.getuid?.() !== 0 && sub !== 'status' && sub !== 'logs')
    throw new Error(
      `tskube ${sub} needs root (it creates and enters network namespaces): run it as root, e.g. sudo ${selfCommand()} ${sub}`,
    );
  if (!exists && sub !== 'up' && sub !== 'down') {
    process.stderr.write(
      `Error: cluster "${options.name}" is not up (no state in ${dirname(saved)}): start it with \`${selfCommand()} up${clusterArgs(values)}\`\n`,
    );
    return 1;
  }
  const started = performance.now();
  const progress = (line: string) =>
    process.stdout.write(`[${((performance.now() - started) / 1000).toFixed(2).padStart(6)}s] ${line}\n`);
  switch (sub) {
    case 'up': {
      const layout = await up({ ...options, repair: values.repair as boolean }, progress);
      const tskube = (command: string) => `${selfCommand()} ${command}${clusterArgs(values)}`;
      process.stdout.write(`
The cluster "${options.name}" is up${options.lab ? ' in --lab mode (see docs/lab-walkthrough.md)' : ''}. Use it with the real kubectl:

  export KUBECONFIG=${layout.kubeconfig}
  kubectl get nodes
  kubectl create -f examples/lab/testdep.yaml
  kubectl create -f examples/lab/nsvc.yaml
  VIP=$(kubectl get svc nsvc -o jsonpath='{.spec.clusterIP}')
  ${tskube('exec')} nodea -- curl -I $VIP:2000

${tskube('status')}   |   ${tskube('logs')} apiserver   |   ${tskube('down')}
`);
      return 0;
    }
    case 'down':
      await down(options, progress);
      return 0;
    case 'status':
      process.stdout.write(await status(options));
      return 0;
    case 'logs': {
      const component = args[0];
      if (!component || args.length > 1)
        throw new FlagError(
          `logs takes one COMPONENT: apiserver, controller-manager, scheduler, or with --node NODE: kubelet, flatnet, proxy`,
        );
      const layout = clusterLayout(options);
      const file = join(layout.dir, 'logs', values.node ? `${values.node}-${component}.log` : `${component}.log`);
      if (!existsSync(file))
        throw new Error(
          `No log ${file}: components are apiserver, controller-manager, scheduler, and (with --node ${layout.nodes.map((n) => n.name).join('|')}) kubelet, flatnet, proxy`,
        );
      process.stdout.write(readFileSync(file));
      return 0;
    }
    case 'exec': {
      const node = args[0];
      if (!node || args.length > 1 || command.length === 0)
        throw new FlagError('exec takes a NODE, then -- and the command: tskube exec nodea -- ip addr');
      const layout = clusterLayout(options);
      const target = layout.nodes.find((n) => n.name === node);
      if (!target)
        throw new Error(
          `No node "${node}" in cluster "${options.name}": nodes are ${layout.nodes.map((n) => n.name).join(', ')}`,
        );
      // Signals sent to `tskube exec` (a terminal's or a supervisor's) reach the command it runs.
      return runAttached([...target.enter, ...command], { ...process.env, KUBECONFIG: layout.kubeconfig });
    }
    default:
      throw new Error(`unknown command "${sub}"`);
  }
}

/** selfCommand is how the user can run this tskube again: `tskube` when that is on PATH, else this checkout's bin/tskube. */
function selfCommand(): string {
  const bin = fileURLToPath(new URL('../../bin/tskube', import.meta.url));
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = join(dir, 'tskube');
    if (dir && existsSync(candidate) && realpathSync(candidate) === realpathSync(bin)) return 'tskube';
  }
  return bin;
}

/** clusterArgs repeats the flags that name a non-default cluster, for the commands we print. */
function clusterArgs(values: FlagValues): string {
  const name = values.name !== DEFAULTS.name ? ` --name=${values.name}` : '';
  const stateDir = values['state-dir'] ? ` --state-dir=${values['state-dir']}` : '';
  return name + stateDir;
}
