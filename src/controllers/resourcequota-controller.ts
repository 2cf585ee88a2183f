import type { KubeObject } from '../api/objects.ts';
import type { ResourceInfo } from '../api/resources.ts';
import { ignoreNotFound } from '../client/client.ts';
import { formatQuota, usageOf } from '../api/quota-usage.ts';
import { WorkQueue } from './work-queue.ts';
import { keyOf, type ControllerContext } from './context.ts';

/** Upstream recalculates every quota on this period too, besides reacting to changes. */
const RESYNC_MS = 30_000;

/**
 * ResourceQuotaController keeps each ResourceQuota's `status.hard` (its spec) and `status.used` (what the namespace
 * holds now, counted as the quota admission counts), so that admission has usage to check against and
 * `kubectl describe quota` shows it. Deletions free usage here; creations are charged by admission at once.
 */
export class ResourceQuotaController {
  #ctx: ControllerContext;
  #queue: WorkQueue;

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.#queue = new WorkQueue((key) => this.#sync(key), {
      onError: (key, error) => ctx.logger.error('Error syncing resource quota', { quota: key, error }),
    });
    ctx.informers.resourcequotas.addHandlers({
      onAdd: (q) => this.#queue.add(keyOf(q)),
      onUpdate: (o, q) =>
        JSON.stringify(o.spec) !== JSON.stringify(q.spec) || !q.status?.used ? this.#queue.add(keyOf(q)) : undefined,
    });
    const namespaceChanged = (object: KubeObject) => {
      for (const q of ctx.informers.resourcequotas.list())
        if (q.metadata.namespace === object.metadata?.namespace) this.#queue.addAfter(keyOf(q), 200);
    };
    // A pod that finishes stops counting; a Service has no phase, so only its deletion frees usage.
    ctx.informers.pods.addHandlers({
      onDelete: namespaceChanged,
      onUpdate: (o, n) => (o.status?.phase !== n.status?.phase ? namespaceChanged(n) : undefined),
    });
    ctx.informers.services.addHandlers({ onDelete: namespaceChanged });
    const resync = setInterval(() => {
      for (const q of ctx.informers.resourcequotas.list()) this.#queue.add(keyOf(q));
    }, RESYNC_MS);
    resync.unref();
  }

  async #sync(key: string): Promise<void> {
    await this.#ctx.synced;
    const { client, informers } = this.#ctx;
    const quota = informers.resourcequotas.get(key);
    if (!quota || quota.metadata.deletionTimestamp) return;
    const ns = quota.metadata.namespace;
    const hard = quota.spec?.hard ?? {};
    const totals: Record<string, number> = Object.fromEntries(Object.keys(hard).map((r) => [r, 0]));
    for (const info of resourcesFor(Object.keys(hard), client.resource.bind(client))) {
      const items: KubeObject[] = (await client.list(info, { namespace: ns })).items ?? [];
      for (const item of items) {
        if (info.resource === 'pods' && item.metadata?.deletionTimestamp) continue;
        const usage = usageOf(info.resource, info.group, item);
        for (const r of Object.keys(totals)) totals[r]! += usage[r] ?? 0;
      }
    }
    const used = Object.fromEntries(Object.entries(totals).map(([r, v]) => [r, formatQuota(r, v)]));
    const status = { hard: { ...hard }, used };
    if (JSON.stringify(status) === JSON.stringify({ hard: quota.status?.hard, used: quota.status?.used })) return;
    await client
      .update(client.typed('resourcequotas'), { ...quota, status }, { subresource: 'status' })
      .catch(this.#queue.requeueOn(key, 100, 409))
      .catch(ignoreNotFound);
  }
}

/** resourcesFor maps quota resource names to the kinds to count. */
function resourcesFor(names: string[], lookup: (plural: string, group?: string) => ResourceInfo): ResourceInfo[] {
  const out = new Map<string, ResourceInfo>();
  const add = (plural: string, group: string) => {
    try {
      const info = lookup(plural, group);
      out.set(`${group}/${plural}`, info);
    } catch {
      // A kind tskube does not serve counts as zero.
    }
  };
  for (const name of names) {
    if (name.startsWith('count/')) {
      const [plural, ...group] = name.slice('count/'.length).split('.');
      add(plural!, group.join('.'));
    } else if (
      ['pods', 'cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory'].includes(name)
    )
      add('pods', '');
    else if (name === 'services.nodeports' || name === 'services.loadbalancers') add('services', '');
    else add(name, '');
  }
  return [...out.values()];
}
