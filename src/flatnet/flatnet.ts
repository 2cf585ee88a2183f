import type { Node } from 'kubernetes-types/core/v1.js';
import type { Stored } from '../api/objects.ts';
import { Informer, type RestClient } from '../client/client.ts';
import type { Logger } from '../log/klog.ts';
import { ipBatch, ipRoutes } from '../sys/ip.ts';
import { Iptables, type IptablesHost } from '../sys/iptables.ts';
import { FLATNET_CHAIN, desiredNetwork, forwardRules, type DesiredNetwork } from './desired-network.ts';

/** ROUTE_PROTOCOL marks flatnet's routes so they can be found (and removed) again after a restart. */
export const ROUTE_PROTOCOL = '44';

/** FlatnetRoute is one route flatnet made: to a pod CIDR, through a node's address. */
export interface FlatnetRoute {
  dst: string;
  gateway?: string;
}

/**
 * FlatnetHost is what flatnet changes on the node: its routes (those of ROUTE_PROTOCOL) and, through
 * iptables-restore, its own FORWARD chain and the jump to it. `hostFlatnet` is the real one; unit tests use a fake.
 */
export interface FlatnetHost {
  /** routes lists the routes of ROUTE_PROTOCOL. */
  routes(): Promise<FlatnetRoute[]>;
  /** changeRoutes applies `ip route` commands (`replace ... proto 44`, `del ... proto 44`) in one batch. */
  changeRoutes(commands: readonly string[]): Promise<void>;
  iptables: Pick<IptablesHost, 'restore' | 'ensureRule'>;
}

/** hostFlatnet is the node itself: `ip -json route` and `ip -batch`, and iptables (its backend detected on first use). */
export function hostFlatnet(): FlatnetHost {
  let detected: Promise<Iptables> | undefined;
  const iptables = () => (detected ??= Iptables.detect());
  return {
    routes: () => ipRoutes(['proto', ROUTE_PROTOCOL]),
    changeRoutes: (commands) => ipBatch(commands.map((c) => `route ${c}`)),
    iptables: {
      restore: async (text) => (await iptables()).restore(text),
      ensureRule: async (table, chain, args) => (await iptables()).ensureRule(table, chain, args),
    },
  };
}

/** The jump from FORWARD to flatnet's chain. */
const FORWARD_JUMP = ['-m', 'comment', '--comment', 'tskube flat pod network', '-j', FLATNET_CHAIN];

/**
 * FlatnetApplier brings a node's routes and FORWARD chain to a DesiredNetwork, changing only what differs (its chain
 * is restored only when its rules change); with dryRun it reads the routes but writes the commands it would run.
 */
export class FlatnetApplier {
  #host: FlatnetHost;
  #logger: Logger;
  #dryRun: boolean;
  #print: (text: string) => void;
  #applied = '';

  constructor(o: { host: FlatnetHost; logger: Logger; dryRun?: boolean; print?: (text: string) => void }) {
    this.#host = o.host;
    this.#logger = o.logger;
    this.#dryRun = o.dryRun ?? false;
    this.#print = o.print ?? ((text) => process.stdout.write(text));
  }

  /** apply makes the changes and returns the route changes (`replace <cidr> via <ip> proto 44`, `del ...`). */
  async apply(wanted: DesiredNetwork): Promise<string[]> {
    const host = this.#host;
    const changes = routeChanges(await host.routes(), wanted);
    const rules = forwardRules(wanted.ownCidr);
    if (this.#dryRun) {
      for (const c of changes) this.#print(`ip route ${c}\n`);
      if (rules !== this.#applied)
        this.#print(`iptables-restore --noflush <<EOF\n${rules}EOF\niptables -I FORWARD -j ${FLATNET_CHAIN}\n`);
      this.#applied = rules;
      return changes;
    }
    if (changes.length) await host.changeRoutes(changes);
    if (rules !== this.#applied) {
      await host.iptables.restore(rules);
      await host.iptables.ensureRule('filter', 'FORWARD', FORWARD_JUMP);
      this.#applied = rules;
    }
    for (const c of changes) this.#logger.info('Route changed', { change: c });
    return changes;
  }
}

/** routeChanges are the `ip route` commands from the routes there are to the routes wanted (pure). */
export function routeChanges(current: readonly FlatnetRoute[], wanted: DesiredNetwork): string[] {
  const have = new Map(current.map((r) => [r.dst, r.gateway]));
  const changes: string[] = [];
  for (const r of wanted.routes)
    if (have.get(r.cidr) !== r.via) changes.push(`replace ${r.cidr} via ${r.via} proto ${ROUTE_PROTOCOL}`);
  for (const dst of have.keys())
    if (!wanted.routes.some((r) => r.cidr === dst)) changes.push(`del ${dst} proto ${ROUTE_PROTOCOL}`);
  return changes;
}

/**
 * Flatnet keeps a node's flat-network plumbing in step with the Nodes: routes to other nodes' pod CIDRs (tagged
 * with its own route protocol), and its own FORWARD chain. It is idempotent and restart-safe; with dryRun it only
 * prints the changes it would make.
 */
export class Flatnet {
  #nodeName: string;
  #logger: Logger;
  #nodes: Informer<Stored<Node>>;
  #applier: FlatnetApplier;
  #pending = false;
  #running: Promise<string[]> = Promise.resolve([]);

  constructor(o: {
    client: RestClient;
    logger: Logger;
    nodeName: string;
    dryRun: boolean;
    /** The node's routes and iptables (default: the real ones, hostFlatnet). */
    host?: FlatnetHost;
  }) {
    this.#logger = o.logger;
    this.#nodeName = o.nodeName;
    this.#applier = new FlatnetApplier({ host: o.host ?? hostFlatnet(), logger: o.logger, dryRun: o.dryRun });
    this.#nodes = new Informer(
      o.client,
      o.client.typed('nodes'),
      { onChange: () => this.#queue() },
      { logger: o.logger },
    );
  }

  async start(): Promise<void> {
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
    const once = () => this.#applier.apply(desiredNetwork(this.#nodes.list(), this.#nodeName));
    this.#running = this.#running.then(once, once);
    return this.#running;
  }
}
