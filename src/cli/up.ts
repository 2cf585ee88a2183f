import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { down, status, up } from '../cluster/cluster.ts';
import { DEFAULTS, clusterLayout, type ClusterOptions } from '../cluster/layout.ts';
import { parseFlags, usage, type FlagSpecs } from './flags.ts';

const FLAGS: FlagSpecs = {
  name: { type: 'string', default: DEFAULTS.name, help: 'Cluster name (namespaces and links are prefixed with it; run several side by side with different --name and --lan-cidr)' },
  nodes: { type: 'int', default: DEFAULTS.nodes, help: 'Number of nodes (nodea, nodeb, ...)' },
  lab: { type: 'bool', default: false, help: "Stop where the lab starts: kubelets on overlapping docker0 172.17.0.1/16, FORWARD DROP, no routes, no kube-proxy" },
  repair: { type: 'bool', default: false, help: 'Restart components of a running cluster that stopped' },
  'state-dir': { type: 'string', help: 'Where the cluster keeps its files (default ~/.tskube/<name>)' },
  'lan-cidr': { type: 'string', default: DEFAULTS.lanCidr, help: 'The nodes\' LAN; .1 is the control plane, nodes from .10' },
  'service-cluster-ip-range': { type: 'string', default: DEFAULTS.serviceCidr, help: 'Service VIPs' },
  'cluster-cidr': { type: 'string', default: DEFAULTS.clusterCidr, help: 'Pod addresses; each node gets a /16 from it' },
  'etcd-servers': { type: 'strings', default: [], help: 'Use etcd instead of the embedded SQLite store' },
  node: { type: 'string', help: 'logs: the node of a per-node component' },
  help: { type: 'bool', default: false, short: 'h', help: 'help' },
};

/** main serves `tskube up`, `down`, `status`, `logs COMPONENT [--node N]` and `exec NODE -- CMD`. */
export async function main(argv: string[], sub = 'up'): Promise<number> {
  const dashdash = argv.indexOf('--');
  const command = dashdash === -1 ? [] : argv.slice(dashdash + 1);
  const { values, args } = parseFlags(dashdash === -1 ? argv : argv.slice(0, dashdash), FLAGS);
  if (values.help) {
    process.stdout.write(usage(`tskube ${sub}`, "The lab's cluster on this machine: up, down, status, logs COMPONENT [--node N], exec NODE -- CMD", FLAGS));
    return 0;
  }
  const saved = join((values['state-dir'] as string | undefined) ?? join(process.env.HOME ?? '/root', '.tskube', values.name as string), 'cluster.json');
  // A cluster that exists keeps the options it was made with; flags shape a new one.
  const options: ClusterOptions = existsSync(saved)
    ? { ...JSON.parse(readFileSync(saved, 'utf8')), stateDir: values['state-dir'] as string | undefined }
    : {
        name: values.name as string, nodes: values.nodes as number, lab: values.lab as boolean, lanCidr: values['lan-cidr'] as string,
        serviceCidr: values['service-cluster-ip-range'] as string, clusterCidr: values['cluster-cidr'] as string, etcdServers: values['etcd-servers'] as string[],
        stateDir: values['state-dir'] as string | undefined,
      };
  if (process.getuid?.() !== 0 && sub !== 'status' && sub !== 'logs') throw new Error(`tskube ${sub} needs root: it creates network namespaces`);
  const started = performance.now();
  const progress = (line: string) => process.stdout.write(`[${((performance.now() - started) / 1000).toFixed(2).padStart(6)}s] ${line}\n`);
  switch (sub) {
    case 'up': {
      const layout = await up({ ...options, repair: values.repair as boolean }, progress);
      process.stdout.write(`
The cluster "${options.name}" is up${options.lab ? ' in --lab mode (see docs/lab-walkthrough.md)' : ''}. Use it with the real kubectl:

  export KUBECONFIG=${layout.kubeconfig}
  kubectl get nodes
  kubectl create -f examples/lab/testdep.yaml
  kubectl create -f examples/lab/nsvc.yaml
  tskube exec nodea -- curl -I <VIP>:2000

tskube status | tskube logs apiserver | tskube logs kubelet --node nodea | tskube down
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
      if (!component) throw new Error('Usage: tskube logs COMPONENT [--node NODE]');
      const layout = clusterLayout(options);
      const file = join(layout.dir, 'logs', values.node ? `${values.node}-${component}.log` : `${component}.log`);
      if (!existsSync(file)) throw new Error(`No log ${file}: components are apiserver, controller-manager, scheduler, and (with --node) kubelet, flatnet, proxy`);
      process.stdout.write(readFileSync(file));
      return 0;
    }
    case 'exec': {
      const node = args[0];
      if (!node || command.length === 0) throw new Error('Usage: tskube exec NODE -- COMMAND [ARGS...]');
      const layout = clusterLayout(options);
      const target = layout.nodes.find((n) => n.name === node);
      if (!target) throw new Error(`No node "${node}" in cluster "${options.name}": nodes are ${layout.nodes.map((n) => n.name).join(', ')}`);
      const child = spawn('nsenter', [`--net=/run/netns/${target.netns}`, '--', ...command], { stdio: 'inherit', env: { ...process.env, KUBECONFIG: layout.kubeconfig } });
      return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
    }
    default:
      throw new Error(`unknown command "${sub}"`);
  }
}
