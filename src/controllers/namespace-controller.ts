import type { Namespace, NamespaceCondition } from 'kubernetes-types/core/v1.js';
import type { APIGroupList, APIResourceList } from 'kubernetes-types/meta/v1.js';
import type { Stored } from '../api/objects.ts';
import type { ResourceInfo } from '../api/resources.ts';
import { isStatusError } from '../api/status.ts';
import { ignoreNotFound, ignoreStatus } from '../client/client.ts';
import { WorkQueue } from './work-queue.ts';
import type { ControllerContext } from './context.ts';
import { timestamp } from '../api/time.ts';

const FINALIZER_KUBERNETES = 'kubernetes';
/** How long discovery is reused between syncs: other kinds may be served later (upstream rediscovers per sync). */
const DISCOVERY_TTL_MS = 10_000;

/**
 * NamespaceController empties namespaces being deleted, as upstream's namespace controller does: it finds every
 * namespaced kind through discovery, deletes the whole collection of each in the namespace, reports what remains
 * in the namespace's conditions, and once nothing is left removes the `kubernetes` finalizer through `/finalize`
 * (the API server then deletes the namespace).
 */
export class NamespaceController {
  #ctx: ControllerContext;
  #queue: WorkQueue;
  #discovered: { at: number; resources: ResourceInfo[] } | undefined;

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.#queue = new WorkQueue((name) => this.#sync(name), {
      onError: (name, error) => ctx.logger.error('Error syncing namespace', { namespace: name, error }),
    });
    const changed = (ns: Stored<Namespace>) => {
      if (ns.metadata.deletionTimestamp) this.#queue.add(ns.metadata.name);
    };
    ctx.informers.namespaces.addHandlers({ onAdd: changed, onUpdate: (_o, ns) => changed(ns) });
  }

  async #sync(name: string): Promise<void> {
    await this.#ctx.synced;
    const { client, logger } = this.#ctx;
    const nsInfo = client.typed('namespaces');
    let ns: Stored<Namespace>;
    try {
      ns = await client.get(nsInfo, undefined, name);
    } catch (error) {
      if (isStatusError(error, 404)) return;
      throw error;
    }
    if (!ns.metadata.deletionTimestamp) return;
    const finalizers = ns.spec?.finalizers ?? [];
    if (!finalizers.includes(FINALIZER_KUBERNETES)) {
      // Finalized already (or never had ours): a namespace whose other finalizers are gone is deleted again.
      if (finalizers.length === 0 && (ns.metadata.finalizers ?? []).length === 0)
        await client.delete(nsInfo, undefined, name).catch(ignoreNotFound);
      return;
    }
    const resources = await this.#namespacedResources();
    const remaining = new Map<string, number>();
    const finalizersLeft = new Map<string, number>();
    let deleteFailure: string | undefined;
    for (const info of resources) {
      try {
        if (info.verbs.includes('deletecollection')) {
          await client.request('DELETE', collectionPath(info, name), { body: { propagationPolicy: 'Background' } });
        } else {
          const list = await client.list(info, { namespace: name });
          for (const item of list.items ?? [])
            await client
              .delete(info, name, item.metadata.name, { propagationPolicy: 'Background' })
              .catch(ignoreNotFound);
        }
        const left = (await client.list(info, { namespace: name })).items ?? [];
        if (left.length) remaining.set(qualified(info), left.length);
        for (const item of left)
          for (const f of item.metadata?.finalizers ?? []) finalizersLeft.set(f, (finalizersLeft.get(f) ?? 0) + 1);
      } catch (error) {
        if (isStatusError(error, 404) || isStatusError(error, 405)) continue;
        deleteFailure = `Failed to delete all resource types, 1 remaining: ${(error as Error).message}`;
        logger.v(2).info('Namespace content deletion failed', { namespace: name, resource: qualified(info), error });
      }
    }
    await this.#updateConditions(ns, remaining, finalizersLeft, deleteFailure);
    if (remaining.size > 0 || deleteFailure) {
      logger.v(4).info('Namespace still has content', { namespace: name, remaining: [...remaining.keys()].join(',') });
      return this.#queue.addAfter(name, 1000);
    }
    const latest = await client.get(nsInfo, undefined, name).catch(ignoreNotFound);
    if (!latest) return;
    const next = {
      ...latest,
      spec: {
        ...latest.spec,
        finalizers: (latest.spec?.finalizers ?? []).filter((f) => f !== FINALIZER_KUBERNETES),
      },
    };
    await client
      .update(nsInfo, next, { subresource: 'finalize' })
      .catch(this.#queue.requeueOn(name, 100, 409))
      .catch(ignoreNotFound);
    logger.v(2).info('Namespace has been deleted', { namespace: name });
  }

  /** #updateConditions writes upstream's five namespace deletion conditions (shown by `kubectl describe ns`). */
  async #updateConditions(
    ns: Stored<Namespace>,
    remaining: Map<string, number>,
    finalizersLeft: Map<string, number>,
    deleteFailure: string | undefined,
  ): Promise<void> {
    const now = timestamp();
    const previous = ns.status?.conditions ?? [];
    const condition = (type: string, status: string, reason: string, message: string): NamespaceCondition => {
      const old = previous.find((c) => c.type === type);
      return {
        type,
        status,
        lastTransitionTime: old?.status === status ? old.lastTransitionTime : now,
        reason,
        message,
      };
    };
    const contentText = [...remaining.entries()].map(([r, n]) => `${r} has ${n} resource instances`).join(', ');
    const finalizerText = [...finalizersLeft.entries()].map(([f, n]) => `${f} in ${n} resource instances`).join(', ');
    const conditions = [
      condition(
        'NamespaceDeletionDiscoveryFailure',
        'False',
        'ResourcesDiscovered',
        'All resources successfully discovered',
      ),
      condition(
        'NamespaceDeletionGroupVersionParsingFailure',
        'False',
        'ParsedGroupVersions',
        'All legacy kube types successfully parsed',
      ),
      deleteFailure
        ? condition('NamespaceDeletionContentFailure', 'True', 'ContentDeletionFailed', deleteFailure)
        : condition(
            'NamespaceDeletionContentFailure',
            'False',
            'ContentDeleted',
            'All content successfully deleted, may be waiting on finalization',
          ),
      remaining.size
        ? condition(
            'NamespaceContentRemaining',
            'True',
            'SomeResourcesRemain',
            `Some resources are remaining: ${contentText}`,
          )
        : condition('NamespaceContentRemaining', 'False', 'ContentRemoved', 'All content successfully removed'),
      finalizersLeft.size
        ? condition(
            'NamespaceFinalizersRemaining',
            'True',
            'SomeFinalizersRemain',
            `Some content in the namespace has finalizers remaining: ${finalizerText}`,
          )
        : condition(
            'NamespaceFinalizersRemaining',
            'False',
            'ContentHasNoFinalizers',
            'All content-preserving finalizers finished',
          ),
    ];
    const key = (list: NamespaceCondition[]) =>
      JSON.stringify(list.map((c) => [c.type, c.status, c.reason, c.message]));
    if (key(conditions) === key(previous)) return;
    const client = this.#ctx.client;
    await client
      .update(client.typed('namespaces'), { ...ns, status: { ...ns.status, conditions } }, { subresource: 'status' })
      .catch(ignoreStatus(404, 409));
  }

  /** #namespacedResources lists, through discovery, every namespaced kind that can be listed and deleted. */
  async #namespacedResources(): Promise<ResourceInfo[]> {
    if (this.#discovered && Date.now() - this.#discovered.at < DISCOVERY_TTL_MS) return this.#discovered.resources;
    const client = this.#ctx.client;
    const groupVersions: string[] = ['v1'];
    const groups = await client.request<APIGroupList>('GET', '/apis');
    for (const g of groups.groups ?? [])
      if (g.preferredVersion?.groupVersion) groupVersions.push(g.preferredVersion.groupVersion);
    const resources: ResourceInfo[] = [];
    for (const gv of groupVersions) {
      const list = await client.request<APIResourceList>('GET', gv === 'v1' ? '/api/v1' : `/apis/${gv}`);
      const [group, version] = gv.includes('/') ? (gv.split('/') as [string, string]) : ['', gv];
      for (const r of list.resources ?? []) {
        if (r.name.includes('/') || !r.namespaced || !r.verbs?.includes('delete') || !r.verbs?.includes('list'))
          continue;
        resources.push({
          group,
          version,
          resource: r.name,
          singular: r.singularName ?? '',
          kind: r.kind,
          listKind: `${r.kind}List`,
          namespaced: true,
          shortNames: [],
          categories: [],
          verbs: r.verbs,
          subresources: [],
        });
      }
    }
    this.#discovered = { at: Date.now(), resources };
    return resources;
  }
}

function collectionPath(info: ResourceInfo, namespace: string): string {
  const base = info.group === '' ? `/api/${info.version}` : `/apis/${info.group}/${info.version}`;
  return `${base}/namespaces/${encodeURIComponent(namespace)}/${info.resource}`;
}

function qualified(info: ResourceInfo): string {
  return info.group === '' ? `${info.resource}.` : `${info.resource}.${info.group}`;
}
