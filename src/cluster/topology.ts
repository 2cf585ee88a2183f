import { cidrsOverlap, parseCidr } from '../net/ipv4.ts';
import { addNetns, deleteNetns, ipAddresses, ipBatch, linkExists, sysctlIn } from '../sys/ip.ts';
import { run } from '../sys/run.ts';
import { createUtsNamespace, removeUtsNamespace } from '../sys/uts.ts';
import type { ClusterLayout } from './layout.ts';

/**
 * The cluster's network on this machine: a LAN namespace with a bridge (the lab's node network), a veth from the
 * root namespace to it carrying the control plane's address (the root namespace gains one link and one address,
 * nothing else: no forwarding, no NAT, no firewall change), and one network namespace per node on the LAN, with a
 * UTS namespace of its own (hostname nodea, nodeb, ...). Nodes forward (ip_forward=1 inside them only) and have no
 * route off the machine.
 */
export async function createTopology(layout: ClusterLayout): Promise<void> {
  await addNetns(layout.lanNetns);
  // br0 bridges the nodes without netfilter; its address is the nodes' default gateway, which refuses whatever
  // it is asked to route (TCP reset, ICMP otherwise), as the lab's VIP "Connection refused" before kube-proxy.
  await ipBatch(
    [
      'link add br0 address 02:31:00:00:00:01 type bridge nf_call_iptables 0',
      `addr add ${layout.gatewayIp}/${layout.lanPrefix} dev br0`,
      'link set br0 up',
    ],
    layout.lanNetns,
  );
  await sysctlIn('net.ipv4.ip_forward', '1', layout.lanNetns);
  await sysctlIn('net.bridge.bridge-nf-call-iptables', '0', layout.lanNetns);
  await run(['nsenter', `--net=/run/netns/${layout.lanNetns}`, '--', 'iptables-restore', '-w', '5'], {
    input:
      '*filter\n:FORWARD DROP [0:0]\n-A FORWARD -p tcp -j REJECT --reject-with tcp-reset\n-A FORWARD -j REJECT --reject-with icmp-port-unreachable\nCOMMIT\n',
  });
  if (!(await linkExists(layout.rootLink))) {
    await ipBatch([`link add ${layout.rootLink} type veth peer name cp netns ${layout.lanNetns}`]);
  }
  await ipBatch([
    `addr replace ${layout.controlPlaneIp}/${layout.lanPrefix} dev ${layout.rootLink}`,
    `link set ${layout.rootLink} up`,
  ]);
  await ipBatch(['link set cp master br0', 'link set cp up'], layout.lanNetns);
  for (const [i, node] of layout.nodes.entries()) {
    await addNetns(node.netns);
    await createUtsNamespace(node.utsFile, node.name);
    const mac = `02:31:00:00:01:${(10 + i).toString(16).padStart(2, '0')}`;
    await ipBatch(
      [
        `link add eth0 address ${mac} type veth peer name ${node.lanPeer} netns ${layout.lanNetns}`,
        `addr add ${node.ip}/${layout.lanPrefix} dev eth0`,
        'link set eth0 up',
        `route add default via ${layout.gatewayIp}`,
      ],
      node.netns,
    );
    await ipBatch([`link set ${node.lanPeer} master br0`, `link set ${node.lanPeer} up`], layout.lanNetns);
    await sysctlIn('net.ipv4.ip_forward', '1', node.netns);
    if (layout.options.lab) await dockerLikeSetup(node.netns);
  }
}

/**
 * assertLanFree refuses a LAN range that overlaps an address this machine already has (another cluster's LAN, a real
 * network): the control plane's address would be taken, and requests would reach someone else's API server.
 */
export async function assertLanFree(layout: ClusterLayout): Promise<void> {
  const lan = parseCidr(layout.options.lanCidr);
  for (const link of await ipAddresses()) {
    if (link.ifname === layout.rootLink) continue;
    for (const a of link.addr_info ?? []) {
      if (a.family !== 'inet' || !cidrsOverlap(lan, parseCidr(`${a.local}/${a.prefixlen}`))) continue;
      throw new Error(
        `Cannot use LAN ${layout.options.lanCidr}: ${a.local}/${a.prefixlen} on ${link.ifname} overlaps it (another cluster's LAN, or a network of this machine): choose a free range with --lan-cidr (see 'ip -4 addr')`,
      );
    }
  }
}

/**
 * dockerLikeSetup gives a node what Docker gives the lab's hosts: docker0 on 172.17.0.1/16 (the same subnet on
 * every node, the lab's starting problem) and Docker's default-bridge firewall: FORWARD policy DROP.
 */
async function dockerLikeSetup(netns: string): Promise<void> {
  await ipBatch(
    [
      'link add docker0 address 02:42:ac:11:00:01 type bridge',
      'addr add 172.17.0.1/16 dev docker0',
      'link set docker0 up',
    ],
    netns,
  );
  const rules = `*filter
:FORWARD DROP [0:0]
:DOCKER - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A DOCKER-USER -j RETURN
COMMIT
*nat
:DOCKER - [0:0]
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
COMMIT
`;
  await run(['nsenter', `--net=/run/netns/${netns}`, '--', 'iptables-restore', '-w', '5'], { input: rules });
}

/** destroyTopology removes every namespace of the cluster (pods included, found by prefix) and the root link. */
export async function destroyTopology(layout: ClusterLayout): Promise<void> {
  // The root end of the LAN veth first: deleting the LAN namespace would make it vanish asynchronously.
  if (await linkExists(layout.rootLink)) await run(['ip', 'link', 'del', layout.rootLink]);
  const { stdout } = await run(['ip', 'netns', 'list']).catch(() => ({ stdout: '' }));
  const names = stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`${layout.options.name}-`));
  // Pods first, then nodes, then the LAN: a node's namespace holds the host ends of its pods' veths.
  const order = (n: string) => (n === layout.lanNetns ? 2 : layout.nodes.some((x) => x.netns === n) ? 1 : 0);
  for (const name of names.sort((a, b) => order(a) - order(b))) await deleteNetns(name);
  for (const node of layout.nodes) await removeUtsNamespace(node.utsFile);
}
