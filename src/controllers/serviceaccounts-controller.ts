import { ignoreStatus } from '../client/client.ts';
import { WorkQueue } from './work-queue.ts';
import type { ControllerContext } from './context.ts';

/** The ServiceAccounts every active namespace has (upstream's ServiceAccountsController default list). */
const DEFAULT_SERVICE_ACCOUNTS = ['default'];

/**
 * ServiceAccountsController makes sure every active namespace has a `default` ServiceAccount: it creates one when a
 * namespace appears and again when someone deletes it. Terminating namespaces are left alone.
 */
export class ServiceAccountsController {
  #ctx: ControllerContext;
  #queue: WorkQueue;

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.#queue = new WorkQueue((ns) => this.#sync(ns), {
      onError: (ns, error) => ctx.logger.error('Error syncing namespace service accounts', { namespace: ns, error }),
    });
    ctx.informers.namespaces.addHandlers({
      onAdd: (ns) => this.#queue.add(ns.metadata.name),
      onUpdate: (_o, ns) => this.#queue.add(ns.metadata.name),
    });
    ctx.informers.serviceaccounts.addHandlers({ onDelete: (sa) => this.#queue.add(sa.metadata.namespace!) });
  }

  async #sync(namespace: string): Promise<void> {
    await this.#ctx.synced;
    const { client, informers } = this.#ctx;
    const ns = informers.namespaces.get(namespace);
    if (!ns || ns.metadata.deletionTimestamp || ns.status?.phase !== 'Active') return;
    for (const name of DEFAULT_SERVICE_ACCOUNTS) {
      if (informers.serviceaccounts.get(`${namespace}/${name}`)) continue;
      // Already there (a stale cache), or the namespace went away or began terminating meanwhile.
      await client
        .create(client.typed('serviceaccounts'), namespace, { metadata: { name } })
        .catch(ignoreStatus(409, 404, 403));
    }
  }
}
