import { homedir } from 'node:os';
import { join } from 'node:path';
import { nthAddress, parseCidr } from '../net/ipv4.ts';

/**
 * ClusterLayout is every name, address and file of a cluster on one machine, derived from its options alone (pure),
 * so `up`, `down`, `status` and `exec` agree without consulting each other.
 */
export interface ClusterOptions {
  name: string;
  nodes: number;
  lab: boolean;
  stateDir?: string;
  lanCidr: string;
  serviceCidr: string;
  clusterCidr: string;
  etcdServers: string[];
}

export interface NodeLayout {
  name: string;
  netns: string;
  ip: string;
  dir: string;
  /** The node's end of its veth to the LAN, and the LAN's end. */
  lanPeer: string;
  /** The file pinning the node's UTS namespace: its own hostname, as each of the lab's nodes is its own host. */
  utsFile: string;
  /** The command prefix that runs a program on the node: its network and UTS namespaces. */
  enter: string[];
}

export interface ClusterLayout {
  options: ClusterOptions;
  dir: string;
  lanNetns: string;
  /** The root namespace's end of the veth into the LAN, carrying the control plane's address. */
  rootLink: string;
  controlPlaneIp: string;
  /** The LAN's gateway, inside the LAN namespace: the nodes' default route, which goes nowhere. */
  gatewayIp: string;
  lanPrefix: number;
  apiserverUrl: string;
  kubeconfig: string;
  /** The cluster DNS Service's address: the tenth of the service range, as kubeadm picks it (kubelets' --cluster-dns). */
  dnsServiceIp: string;
  clusterDomain: string;
  nodes: NodeLayout[];
}

/** Where nodes' UTS namespaces are pinned; beside /run/netns, not in it, so `ip netns list` shows only networks. */
const UTS_DIR = '/run/tskube/uts';

export const DEFAULTS: ClusterOptions = {
  name: 'tskube',
  nodes: 2,
  lab: false,
  lanCidr: '192.168.225.0/24',
  serviceCidr: '10.0.0.0/16',
  clusterCidr: '172.16.0.0/12',
  etcdServers: [],
};

/** nodeName is nodea, nodeb, ... as in the lab. */
export function nodeName(i: number): string {
  return `node${String.fromCharCode(97 + i)}`;
}

export function clusterLayout(options: ClusterOptions): ClusterLayout {
  if (!/^[a-z][a-z0-9]{0,7}$/.test(options.name))
    throw new RangeError(
      `Cannot use cluster name "${options.name}": 1 to 8 lowercase letters and digits, starting with a letter`,
    );
  if (options.nodes < 1 || options.nodes > 26) throw new RangeError(`Cannot make ${options.nodes} nodes: 1 to 26`);
  const dir = options.stateDir ?? join(homedir(), '.tskube', options.name);
  const lan = parseCidr(options.lanCidr);
  const controlPlaneIp = nthAddress(lan, 1);
  return {
    options,
    dir,
    lanNetns: `${options.name}-lan`,
    rootLink: `${options.name}-cp`,
    controlPlaneIp,
    gatewayIp: nthAddress(lan, lan.size - 2),
    lanPrefix: lan.prefix,
    // The lab starts its API server on the insecure port; a default cluster serves only TLS on 6443, as kubeadm's.
    apiserverUrl: options.lab ? `http://${controlPlaneIp}:8080` : `https://${controlPlaneIp}:6443`,
    kubeconfig: join(dir, 'admin.conf'),
    dnsServiceIp: nthAddress(parseCidr(options.serviceCidr), 10),
    clusterDomain: 'cluster.local',
    nodes: Array.from({ length: options.nodes }, (_, i) => {
      const name = nodeName(i);
      const netns = `${options.name}-${name}`;
      const utsFile = join(UTS_DIR, netns);
      return {
        name,
        netns,
        ip: nthAddress(lan, 10 + i),
        dir: join(dir, 'nodes', name),
        lanPeer: `l-${name}`,
        utsFile,
        enter: ['nsenter', `--net=/run/netns/${netns}`, `--uts=${utsFile}`, '--'],
      };
    }),
  };
}
