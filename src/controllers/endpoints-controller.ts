import type { Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Stored } from '../api/objects.ts';
import { ignoreNotFound, onEveryChange } from '../client/client.ts';
import { matches, selectorFromMap } from '../api/labels.ts';
import { WorkQueue } from './work-queue.ts';
import { keyOf, ownerReference, type ControllerContext } from './context.ts';
import {
  MANAGED_BY,
  MANAGED_BY_LABEL,
  SERVICE_NAME_LABEL,
  backends,
  desiredSlices,
  desiredSubsets,
  managedSliceKey,
  managedSlices,
} from './service-endpoints.ts';

/**
 * EndpointsController writes, for every Service with a selector, its EndpointSlices (labelled with the service name
 * and managed-by, at most 100 endpoints each) and the Endpoints object of the same name, within a watch event of a
 * pod's readiness or IP changing. Services without a selector are left to their owners.
 */
export class EndpointsController {
  #ctx: ControllerContext;
  #queue: WorkQueue;
  /**
   * Slices this controller created that its cache has not shown yet (by Service key: name → when created). The
   * create's answer comes on one connection and the watch's ADDED on another: a sync in between (a pod event while
   * the create was in flight marks the key dirty, a retry fires) reads a cache without the new slice and would create
   * a second one, which nothing removed. Until they arrive a sync waits, as upstream's endpointSliceTracker does.
   */
  #unseen = new Map<string, Map<string, number>>();

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.#queue = new WorkQueue((key) => this.#sync(key), {
      concurrency: 8,
      onError: (key, error) => ctx.logger.error('Error syncing endpoints', { service: key, error }),
    });
    const svc = ctx.informers.services;
    svc.addHandlers(onEveryChange((s) => this.#queue.add(keyOf(s))));
    const podChanged = (old: Stored<Pod> | undefined, pod: Stored<Pod>) => {
      for (const s of svc.list()) {
        if (s.metadata.namespace !== pod.metadata.namespace || !s.spec?.selector) continue;
        const selector = selectorFromMap(s.spec.selector);
        if (matches(selector, pod.metadata.labels) || (old && matches(selector, old.metadata.labels)))
          this.#queue.add(keyOf(s));
      }
    };
    ctx.informers.pods.addHandlers({
      onAdd: (p) => podChanged(undefined, p),
      onUpdate: (o, p) => podChanged(o, p),
      onDelete: (p) => podChanged(undefined, p),
    });
    // As upstream's controllers, watch what we write too: a managed slice or an Endpoints object that someone
    // deletes or edits is put back as the Service wants it, and one that arrives (ours, or a duplicate) is checked.
    const sliceChanged = (slice: Stored<EndpointSlice>) => {
      const key = managedSliceKey(slice, MANAGED_BY);
      if (!key) return;
      const unseen = this.#unseen.get(key);
      if (unseen?.delete(slice.metadata.name) && unseen.size === 0) this.#unseen.delete(key);
      this.#queue.add(key);
    };
    ctx.informers.endpointslices.addHandlers(onEveryChange(sliceChanged));
    const endpointsChanged = (ep: Stored<Endpoints>) => {
      if (svc.get(keyOf(ep))?.spec?.selector) this.#queue.add(keyOf(ep));
    };
    ctx.informers.endpoints.addHandlers({ onUpdate: (_o, e) => endpointsChanged(e), onDelete: endpointsChanged });
  }

  async #sync(key: string): Promise<void> {
    await this.#ctx.synced;
    const { client, informers, logger } = this.#ctx;
    const [ns, name] = key.split('/') as [string, string];
    if (this.#waitingForCache(key)) return;
    const service = informers.services.get(key);
    const slicesInfo = client.typed('endpointslices');
    const endpointsInfo = client.typed('endpoints');
    const existing = managedSlices(informers.endpointslices.list(), ns, name, MANAGED_BY);
    if (!service?.spec?.selector || service.metadata.deletionTimestamp) {
      if (service && !service.spec?.selector) return;
      for (const s of existing) await client.delete(slicesInfo, ns, s.metadata.name).catch(ignoreNotFound);
      if (!service && informers.endpoints.get(key)) await client.delete(endpointsInfo, ns, name).catch(ignoreNotFound);
      return;
    }
    const list = backends(service, informers.pods.list());
    const wanted = desiredSlices(service, list);
    const labels = { [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MANAGED_BY };
    const owner = [ownerReference({ apiVersion: 'v1', kind: 'Service', metadata: service.metadata })];
    for (let i = 0; i < wanted.length; i++) {
      const body = { addressType: 'IPv4', ports: wanted[i]!.ports, endpoints: wanted[i]!.endpoints };
      const current = existing[i];
      if (!current) {
        const created = await client.create(slicesInfo, ns, {
          metadata: { generateName: `${name}-`, labels, ownerReferences: owner },
          ...body,
        });
        logger
          .v(2)
          .info('Created EndpointSlice', { service: key, slice: created.metadata.name, cached: existing.length });
        if (!informers.endpointslices.get(keyOf(created))) {
          const unseen = this.#unseen.get(key) ?? new Map<string, number>();
          unseen.set(created.metadata.name, Date.now());
          this.#unseen.set(key, unseen);
        }
      } else if (
        JSON.stringify([current.ports ?? [], current.endpoints ?? [], current.addressType]) !==
          JSON.stringify([body.ports, body.endpoints, body.addressType]) ||
        !ownedBy(current, service)
      ) {
        const metadata = {
          ...current.metadata,
          labels: { ...(current.metadata.labels ?? {}), ...labels },
          ownerReferences: owner,
        };
        logger.v(2).info('Updating EndpointSlice', { service: key, slice: current.metadata.name });
        await client
          .update(slicesInfo, { ...current, ...body, metadata })
          .catch(this.#queue.requeueOn(key, 50, 409, 404));
      }
    }
    for (const extra of existing.slice(wanted.length)) {
      logger.info('Deleting extra EndpointSlice', { service: key, slice: extra.metadata.name });
      await client.delete(slicesInfo, ns, extra.metadata.name).catch(ignoreNotFound);
    }
    const subsets = desiredSubsets(list);
    const ep = informers.endpoints.get(key);
    const epLabels = { ...(service.metadata.labels ?? {}) };
    if (!ep) {
      await client
        .create(endpointsInfo, ns, { metadata: { name, labels: epLabels }, subsets })
        .catch(this.#queue.requeueOn(key, 50, 409));
    } else if (JSON.stringify(ep.subsets ?? []) !== JSON.stringify(subsets)) {
      await client.update(endpointsInfo, { ...ep, subsets }).catch(this.#queue.requeueOn(key, 50, 409));
    }
  }

  /**
   * waitingForCache is true while slices created for key have not reached the cache (their ADDED queues key again);
   * after UNSEEN_TIMEOUT_MS they are forgotten, so a lost event cannot stall the Service.
   */
  #waitingForCache(key: string): boolean {
    const unseen = this.#unseen.get(key);
    if (!unseen) return false;
    const now = Date.now();
    for (const [slice, created] of unseen) {
      if (now - created < UNSEEN_TIMEOUT_MS) continue;
      this.#ctx.logger.warning('Created EndpointSlice never reached the cache', { service: key, slice });
      unseen.delete(slice);
    }
    if (unseen.size === 0) {
      this.#unseen.delete(key);
      return false;
    }
    this.#ctx.logger
      .v(2)
      .info('Cache lacks created EndpointSlices, waiting', { service: key, slices: [...unseen.keys()] });
    this.#queue.addAfter(key, UNSEEN_TIMEOUT_MS);
    return true;
  }
}

/** UNSEEN_TIMEOUT_MS is how long a sync waits for a created slice to show up in the cache. */
const UNSEEN_TIMEOUT_MS = 5_000;

function ownedBy(slice: Stored<EndpointSlice>, service: Stored<Service>): boolean {
  return (slice.metadata.ownerReferences ?? []).some((r) => r.controller === true && r.uid === service.metadata.uid);
}
