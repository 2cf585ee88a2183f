import type { Node } from 'kubernetes-types/core/v1.js';
import type { Stored } from '../api/objects.ts';
import { Informer, type RestClient } from '../client/client.ts';
import type { Logger } from '../log/klog.ts';
import { ipBatch, ipRoutes } from '../sys/ip.ts';
import { Iptables } from '../sys/iptables.ts';
import { FLATNET_CHAIN, desiredNetwork, forwardRules, type DesiredNetwork } from './desired-network.ts';

/** ROUTE_PROTOCOL marks flatnet's routes so they can be found (and removed) again after a restart. */
const ROUTE_PROTOCOL = '44';

/**
 * Flatnet keeps a node's flat-network plumbing in step with the Nodes: routes to other nodes' pod CIDRs (tagged
 * with its own route protocol), and its own FORWARD chain. It is idempotent and restart-safe; with dryRun it only
 * prints the changes it would make.
 */
export class Flatnet {
  #client: RestClient;
  #logger: Logger;
  #nodeName: string;
  #dryRun: boolean;
  #nodes: Informer<Stored<Node>>;
  #iptables: Iptables | undefined;
  #applied = '';
  #pending = false;
  #running: Promise<string[]> = Promise.resolve([]);

  constructor(o: { client: RestClient; logger: Logger; nodeName: string; dryRun: boolean }) {
    this.#client = o.client;
    this.#logger = o.logger;
    this.#nodeName = o.nodeName;
    this.#dryRun = o.dryRun;
    this.#nodes = new Informer(
      o.client,
      o.client.typed('nodes'),
      { onChange: () => this.#queue() },
      { logger: o.logger },
    );
  }

  async start(): Promise<void> {
    if (!this.#dryRun) this.#iptables = await Iptables.detect();
    this.#nodes.start();
    await this.#nodes.waitForSync();
    await this.sync();
  }

  async stop(): Promise<void> {
    await this.#nodes.stop();
  }

  #queue(): void {
    if (this.#pending || !this.#nodes.hasSynced()) return;
    this.#pending = true;
    setTimeout(() => {
      this.#pending = false;
      void this.sync().catch((error) => this.#logger.error('Failed to sync the flat network', { error }));
    }, 50);
  }

  /** sync applies what the Nodes ask for, one sync at a time; it returns the changes (printed in dry-run mode). */
  sync(): Promise<string[]> {
    this.#running = this.#running.then(
      () => this.#syncOnce(),
      () => this.#syncOnce(),
    );
    return this.#running;
  }

  async #syncOnce(): Promise<string[]> {
    const wanted = desiredNetwork(this.#nodes.list(), this.#nodeName);
    const changes = await this.#routeChanges(wanted);
    const rules = forwardRules(wanted.ownCidr);
    if (this.#dryRun) {
      for (const c of changes) process.stdout.write(`ip route ${c}\n`);
      if (rules !== this.#applied)
        process.stdout.write(
          `iptables-restore --noflush <<EOF\n${rules}EOF\niptables -I FORWARD -j ${FLATNET_CHAIN}\n`,
        );
      this.#applied = rules;
      return changes;
    }
    if (changes.length) await ipBatch(changes.map((c) => `route ${c}`));
    if (rules !== this.#applied) {
      await this.#iptables!.restore(rules);
      await this.#iptables!.ensureRule('filter', 'FORWARD', [
        '-m',
        'comment',
        '--comment',
        'tskube flat pod network',
        '-j',
        FLATNET_CHAIN,
      ]);
      this.#applied = rules;
    }
    for (const c of changes) this.#logger.info('Route changed', { change: c });
    return changes;
  }

  async #routeChanges(wanted: DesiredNetwork): Promise<string[]> {
    const current = await ipRoutes(['proto', ROUTE_PROTOCOL]);
    const have = new Map(current.map((r) => [r.dst, r.gateway]));
    const changes: string[] = [];
    for (const r of wanted.routes)
      if (have.get(r.cidr) !== r.via) changes.push(`replace ${r.cidr} via ${r.via} proto ${ROUTE_PROTOCOL}`);
    for (const dst of have.keys())
      if (!wanted.routes.some((r) => r.cidr === dst)) changes.push(`del ${dst} proto ${ROUTE_PROTOCOL}`);
    return changes;
  }
}
