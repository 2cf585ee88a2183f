import type { Node } from 'kubernetes-types/core/v1.js';
import type { Stored } from '../api/objects.ts';

/**
 * The flat pod network a node wants, from the Node objects: a route to every other node's pod CIDR via that node's
 * InternalIP, and FORWARD accept rules for traffic to and from its own pod CIDR (the lab's sections 2 and 3). Pure.
 */
export interface DesiredNetwork {
  routes: { cidr: string; via: string }[];
  ownCidr: string | undefined;
}

export function desiredNetwork(nodes: readonly Stored<Node>[], self: string): DesiredNetwork {
  const routes: DesiredNetwork['routes'] = [];
  let ownCidr: string | undefined;
  for (const node of nodes) {
    const cidr = node.spec?.podCIDR;
    if (!cidr) continue;
    if (node.metadata.name === self) {
      ownCidr = cidr;
      continue;
    }
    const ip = (node.status?.addresses ?? []).find((a) => a.type === 'InternalIP')?.address;
    if (ip) routes.push({ cidr, via: ip });
  }
  routes.sort((a, b) => (a.cidr < b.cidr ? -1 : 1));
  return { routes, ownCidr };
}

/** FLATNET_CHAIN is flatnet's own filter chain, jumped to from FORWARD; nothing else is touched. */
export const FLATNET_CHAIN = 'TSKUBE-FLATNET';

/** forwardRules is the iptables-restore input for flatnet's chain. */
export function forwardRules(ownCidr: string | undefined): string {
  const lines = ['*filter', `:${FLATNET_CHAIN} - [0:0]`];
  if (ownCidr) {
    lines.push(
      `-A ${FLATNET_CHAIN} -m comment --comment "flatnet: traffic to this node's pods" -d ${ownCidr} -j ACCEPT`,
    );
    lines.push(
      `-A ${FLATNET_CHAIN} -m comment --comment "flatnet: traffic from this node's pods" -s ${ownCidr} -j ACCEPT`,
    );
  }
  lines.push('COMMIT', '');
  return lines.join('\n');
}
