import type { KubeObject, Stored } from '../api/objects.ts';
import { ignoreNotFound, onEveryChange } from '../client/client.ts';
import { resourceByKind, type ResourceInfo } from '../api/resources.ts';
import type { Informer } from '../client/client.ts';
import { WorkQueue } from './work-queue.ts';
import { keyOf, type ControllerContext } from './context.ts';

/**
 * GarbageCollector follows ownerReferences among the kinds the controllers write (Deployments → ReplicaSets →
 * Pods, Services → EndpointSlices): dependents of a vanished owner are deleted (Background); an owner deleted with
 * Foreground waits, under its `foregroundDeletion` finalizer, until its dependents are gone; one deleted with
 * Orphan has its dependents released before its `orphan` finalizer is removed.
 */
export class GarbageCollector {
  #ctx: ControllerContext;
  #queue: WorkQueue;
  #tracked: { informer: Informer<Stored<KubeObject>>; info: ResourceInfo }[];

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    const r = (name: string) => ctx.client.resource(name);
    this.#tracked = [
      { informer: ctx.informers.deployments, info: r('deployments') },
      { informer: ctx.informers.replicasets, info: r('replicasets') },
      { informer: ctx.informers.pods, info: r('pods') },
      { informer: ctx.informers.services, info: r('services') },
      { informer: ctx.informers.endpointslices, info: r('endpointslices') },
      { informer: ctx.informers.replicationcontrollers, info: r('replicationcontrollers') },
      { informer: ctx.informers.daemonsets, info: r('daemonsets') },
      { informer: ctx.informers.controllerrevisions, info: r('controllerrevisions') },
      { informer: ctx.informers.jobs, info: r('jobs') },
      { informer: ctx.informers.cronjobs, info: r('cronjobs') },
    ];
    this.#queue = new WorkQueue((key) => this.#sync(key), {
      onError: (key, error) => ctx.logger.error('Error in garbage collection', { object: key, error }),
    });
    for (const { informer, info } of this.#tracked) {
      const enqueue = (o: Stored<KubeObject>) => {
        this.#queue.add(`${info.resource}|${keyOf(o)}`);
        // A change to an owner may concern its dependents (deleted owner) and its own finalizers.
        for (const d of this.#dependents(o.metadata.uid)) this.#queue.add(`${d.info.resource}|${keyOf(d.object)}`);
      };
      informer.addHandlers(onEveryChange(enqueue));
    }
  }

  #dependents(uid: string): { object: Stored<KubeObject>; info: ResourceInfo }[] {
    const out: { object: Stored<KubeObject>; info: ResourceInfo }[] = [];
    for (const { informer, info } of this.#tracked) {
      for (const object of informer.list())
        if ((object.metadata.ownerReferences ?? []).some((r) => r.uid === uid)) out.push({ object, info });
    }
    return out;
  }

  async #sync(item: string): Promise<void> {
    await this.#ctx.synced;
    const [resource, key] = item.split('|') as [string, string];
    const tracked = this.#tracked.find((t) => t.info.resource === resource)!;
    const object = tracked.informer.get(key);
    if (!object) return;
    const client = this.#ctx.client;
    const ns = object.metadata.namespace;
    const finalizers = object.metadata.finalizers ?? [];
    if (object.metadata.deletionTimestamp && finalizers.includes('orphan')) {
      for (const d of this.#dependents(object.metadata.uid)) {
        await client
          .patch(
            d.info,
            d.object.metadata.namespace,
            d.object.metadata.name,
            {
              metadata: {
                ownerReferences: (d.object.metadata.ownerReferences ?? []).filter((r) => r.uid !== object.metadata.uid),
              },
            },
            'merge',
          )
          .catch(ignoreNotFound);
      }
      return this.#removeFinalizer(tracked.info, object, 'orphan');
    }
    if (object.metadata.deletionTimestamp && finalizers.includes('foregroundDeletion')) {
      const dependents = this.#dependents(object.metadata.uid);
      for (const d of dependents) {
        if (!d.object.metadata.deletionTimestamp)
          await client
            .delete(d.info, d.object.metadata.namespace, d.object.metadata.name, { propagationPolicy: 'Foreground' })
            .catch(ignoreNotFound);
      }
      if (dependents.length === 0) return this.#removeFinalizer(tracked.info, object, 'foregroundDeletion');
      return this.#queue.addAfter(item, 500);
    }
    const owners = object.metadata.ownerReferences ?? [];
    if (owners.length === 0 || object.metadata.deletionTimestamp) return;
    for (const ref of owners) {
      const info = resourceByKind(ref.apiVersion, ref.kind);
      if (!info) return;
      const cached = this.#tracked
        .find((t) => t.info === info)
        ?.informer.get(info.namespaced ? `${ns}/${ref.name}` : ref.name);
      if (cached?.metadata.uid === ref.uid) return;
      // The cache may lag: ask the API server before deciding the owner is gone.
      const live = await client.get(info, info.namespaced ? ns : undefined, ref.name).catch(ignoreNotFound);
      if (live?.metadata.uid === ref.uid) return;
    }
    this.#ctx.logger.v(2).info('Deleting object whose owners are gone', { object: item });
    await client
      .delete(tracked.info, ns, object.metadata.name, { propagationPolicy: 'Background' })
      .catch(ignoreNotFound);
  }

  async #removeFinalizer(info: ResourceInfo, object: Stored<KubeObject>, finalizer: string): Promise<void> {
    const client = this.#ctx.client;
    await client
      .patch(
        info,
        object.metadata.namespace,
        object.metadata.name,
        [
          { op: 'test', path: '/metadata/resourceVersion', value: object.metadata.resourceVersion },
          {
            op: 'replace',
            path: '/metadata/finalizers',
            value: (object.metadata.finalizers ?? []).filter((f) => f !== finalizer),
          },
        ],
        'json',
      )
      .catch(this.#queue.requeueOn(`${info.resource}|${keyOf(object)}`, 50, 422, 409))
      .catch(ignoreNotFound);
  }
}
