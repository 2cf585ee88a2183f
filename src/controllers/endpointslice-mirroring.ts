import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { KubeObject, Stored } from '../api/objects.ts';
import { ignoreNotFound, onEveryChange } from '../client/client.ts';
import { WorkQueue } from './work-queue.ts';
import { keyOf, ownerReference, type ControllerContext } from './context.ts';
import { managedSliceKey, managedSlices } from './service-endpoints.ts';
import {
  MIRRORING_MANAGED_BY,
  mirroredAnnotations,
  mirroredLabels,
  mirroredSlices,
  shouldMirror,
} from './mirrored-slices.ts';

/**
 * EndpointSliceMirroringController mirrors custom Endpoints (those of a Service without a selector) into
 * EndpointSlices managed by `endpointslicemirroring-controller.k8s.io`, owned by the Endpoints object, and keeps
 * them in step through create, update and delete of the Endpoints, the Service, or the slices themselves.
 */
export class EndpointSliceMirroringController {
  #ctx: ControllerContext;
  #queue: WorkQueue;

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.#queue = new WorkQueue((key) => this.#sync(key), {
      concurrency: 4,
      onError: (key, error) => ctx.logger.error('Error mirroring endpoints', { endpoints: key, error }),
    });
    const add = (o: KubeObject) => this.#queue.add(keyOf(o));
    ctx.informers.endpoints.addHandlers(onEveryChange(add));
    ctx.informers.services.addHandlers(onEveryChange(add));
    const slice = (s: Stored<EndpointSlice>) => {
      const key = managedSliceKey(s, MIRRORING_MANAGED_BY);
      if (key) this.#queue.add(key);
    };
    ctx.informers.endpointslices.addHandlers(onEveryChange(slice));
  }

  async #sync(key: string): Promise<void> {
    await this.#ctx.synced;
    const { client, informers } = this.#ctx;
    const [ns, name] = key.split('/') as [string, string];
    const slicesInfo = client.typed('endpointslices');
    const existing = managedSlices(informers.endpointslices.list(), ns, name, MIRRORING_MANAGED_BY);
    const endpoints = informers.endpoints.get(key);
    if (!endpoints || endpoints.metadata.deletionTimestamp || !shouldMirror(endpoints, informers.services.get(key))) {
      for (const s of existing) await client.delete(slicesInfo, ns, s.metadata.name).catch(ignoreNotFound);
      return;
    }
    const wanted = mirroredSlices(endpoints);
    const labels = mirroredLabels(endpoints);
    const annotations = mirroredAnnotations(endpoints);
    const owner = [ownerReference({ apiVersion: 'v1', kind: 'Endpoints', metadata: endpoints.metadata })];
    const meta = <M extends ObjectMeta>(current: M): M => ({
      ...current,
      labels,
      ownerReferences: owner,
      ...(annotations ? { annotations } : {}),
    });
    for (let i = 0; i < wanted.length; i++) {
      const body = wanted[i]!;
      const current = existing[i];
      if (!current) {
        await client.create(slicesInfo, ns, { metadata: meta({ generateName: `${name}-` }), ...body });
        continue;
      }
      const same =
        JSON.stringify([
          current.addressType,
          current.ports ?? [],
          current.endpoints ?? [],
          current.metadata.labels,
          current.metadata.annotations ?? undefined,
        ]) === JSON.stringify([body.addressType, body.ports, body.endpoints, labels, annotations]);
      if (same) continue;
      if (current.addressType !== body.addressType) {
        // addressType is immutable: replace the slice.
        await client.delete(slicesInfo, ns, current.metadata.name).catch(ignoreNotFound);
        await client.create(slicesInfo, ns, { metadata: meta({ generateName: `${name}-` }), ...body });
        continue;
      }
      const metadata = meta(current.metadata);
      if (!annotations) delete metadata.annotations;
      await client.update(slicesInfo, { ...current, ...body, metadata }).catch(this.#queue.requeueOn(key, 50, 409));
    }
    for (const extra of existing.slice(wanted.length))
      await client.delete(slicesInfo, ns, extra.metadata.name).catch(ignoreNotFound);
  }
}
