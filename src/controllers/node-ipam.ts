import { formatCidr, parseCidr, subnet, type Cidr } from '../net/ipv4.ts';
import { WorkQueue } from './work-queue.ts';
import type { ControllerContext } from './context.ts';

/**
 * NodeIpamController gives every Node its own pod subnet (`spec.podCIDR`/`podCIDRs`) from --cluster-cidr, in
 * --node-cidr-mask-size blocks: what the lab does by hand with docker0's `bip`. The set in use is rebuilt from the
 * Nodes themselves, so allocations are stable across restarts; a Node's subnet is free again once it is gone.
 */
export class NodeIpamController {
  #ctx: ControllerContext;
  #cluster: Cidr;
  #maskSize: number;
  #queue: WorkQueue;

  constructor(ctx: ControllerContext, options: { clusterCidr: string; nodeCidrMaskSize: number }) {
    this.#ctx = ctx;
    this.#cluster = parseCidr(options.clusterCidr);
    this.#maskSize = options.nodeCidrMaskSize;
    if (this.#maskSize < this.#cluster.prefix || this.#maskSize > 32)
      throw new RangeError(`Cannot split --cluster-cidr ${options.clusterCidr} into /${this.#maskSize} node subnets`);
    // One worker: allocation decisions must see each other's results.
    this.#queue = new WorkQueue((name) => this.#sync(name), {
      concurrency: 1,
      onError: (name, error) => ctx.logger.error('Error allocating node CIDR', { node: name, error }),
    });
    ctx.informers.nodes.addHandlers({
      onAdd: (n) => this.#queue.add(n.metadata.name),
      onUpdate: (_o, n) => this.#queue.add(n.metadata.name),
    });
  }

  #pending = new Map<string, string>();

  async #sync(name: string): Promise<void> {
    await this.#ctx.synced;
    const node = this.#ctx.informers.nodes.get(name);
    if (!node || node.spec?.podCIDR) {
      this.#pending.delete(name);
      return;
    }
    const used = new Set<string>(
      this.#ctx.informers.nodes.list().flatMap((n) => n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : [])),
    );
    for (const [other, cidr] of this.#pending) if (other !== name) used.add(cidr);
    const count = 2 ** (this.#maskSize - this.#cluster.prefix);
    let chosen: string | undefined = this.#pending.get(name);
    for (let i = 0; chosen === undefined && i < count; i++) {
      const candidate = formatCidr(subnet(this.#cluster, this.#maskSize, i));
      if (!used.has(candidate)) chosen = candidate;
    }
    if (chosen === undefined) {
      this.#ctx.events.event(node, 'Normal', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
      return;
    }
    this.#pending.set(name, chosen);
    const client = this.#ctx.client;
    await client.patch(
      client.typed('nodes'),
      undefined,
      name,
      { spec: { podCIDR: chosen, podCIDRs: [chosen] } },
      'merge',
    );
    this.#ctx.events.event(node, 'Normal', 'CIDRAssignmentSucceeded', `Node ${name} got CIDR ${chosen}`);
    this.#ctx.logger.info('Set node PodCIDR', { node: name, podCIDRs: [chosen] });
  }
}
