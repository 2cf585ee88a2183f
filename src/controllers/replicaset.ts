import type { ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Pod, ReplicationController } from 'kubernetes-types/core/v1.js';
import type { Stored } from '../api/objects.ts';
import { ignoreNotFound, onEveryChange } from '../client/client.ts';
import { matches, selectorFromMap, selectorFromObject, type Selector } from '../api/labels.ts';
import type { Informer } from '../client/client.ts';
import { WorkQueue } from './work-queue.ts';
import {
  controllerKey,
  controllerOf,
  isPodActive,
  isPodReady,
  keyOf,
  ownerReference,
  type ControllerContext,
} from './context.ts';

/** How long created or deleted pods may take to show up in the cache before a sync acts again. */
const EXPECTATION_TIMEOUT_MS = 5000;

/**
 * ReplicaSetController keeps `spec.replicas` pods for each ReplicaSet: pods named `<rs>-<5 chars>`, adoption and
 * release by selector, scale down of not-ready and newest pods first, status counts. Expectations (pods it made or
 * removed that the cache has not shown yet) keep it from acting twice on a stale cache.
 */
export class ReplicaSetController {
  #ctx: ControllerContext;
  #queue: WorkQueue;
  #expected = new Map<string, { creates: Set<string>; deletes: Set<string>; at: number }>();
  #kind: ReplicatedKind;

  constructor(ctx: ControllerContext, kind: ReplicatedKind = REPLICA_SET) {
    this.#ctx = ctx;
    this.#kind = kind;
    const informer = kind.informer(ctx);
    this.#queue = new WorkQueue((key) => this.#sync(key), {
      onError: (key, error) =>
        ctx.logger.error(`Error syncing ${kind.kind}`, {
          [kind.kind === 'ReplicaSet' ? 'replicaSet' : 'replicationController']: key,
          error,
        }),
    });
    informer.addHandlers(onEveryChange((rs) => this.#queue.add(keyOf(rs))));
    const podChanged = (pod: Stored<Pod>) => {
      const key = controllerKey(pod, kind.kind);
      if (key) this.#queue.add(key);
      else if (!controllerOf(pod))
        for (const rs of informer.list())
          if (rs.metadata.namespace === pod.metadata.namespace) this.#queue.add(keyOf(rs));
    };
    ctx.informers.pods.addHandlers(onEveryChange(podChanged));
  }

  async #sync(key: string): Promise<void> {
    await this.#ctx.synced;
    const { client, informers, events } = this.#ctx;
    const rs = this.#kind.informer(this.#ctx).get(key);
    if (!rs) {
      this.#expected.delete(key);
      return;
    }
    const selector = this.#kind.selector(rs);
    const ns = rs.metadata.namespace;
    const all = informers.pods.list().filter((p) => p.metadata.namespace === ns);
    const expected = this.#expected.get(key);
    if (expected) {
      const names = new Set(all.filter(isPodActive).map((p) => p.metadata.name));
      const pending =
        [...expected.creates].some((n) => !names.has(n)) || [...expected.deletes].some((n) => names.has(n));
      if (pending && Date.now() - expected.at < EXPECTATION_TIMEOUT_MS) return this.#queue.addAfter(key, 100);
      this.#expected.delete(key);
    }
    const podsInfo = client.typed('pods');
    const owned: Stored<Pod>[] = [];
    for (const pod of all) {
      const owner = controllerOf(pod);
      const selected = matches(selector, pod.metadata.labels);
      if (owner?.uid === rs.metadata.uid) {
        if (selected || rs.metadata.deletionTimestamp) owned.push(pod);
        else
          await client
            .patch(
              podsInfo,
              ns,
              pod.metadata.name,
              {
                metadata: {
                  ownerReferences: (pod.metadata.ownerReferences ?? []).filter((r) => r.uid !== rs.metadata.uid),
                },
              },
              'merge',
            )
            .catch(ignoreNotFound);
      } else if (!owner && selected && isPodActive(pod) && !rs.metadata.deletionTimestamp) {
        await client
          .patch(
            podsInfo,
            ns,
            pod.metadata.name,
            { metadata: { ownerReferences: [...(pod.metadata.ownerReferences ?? []), ownerReference(rs)] } },
            'merge',
          )
          .catch(ignoreNotFound);
        owned.push(pod);
      }
    }
    const active = owned.filter(isPodActive);
    const want = rs.metadata.deletionTimestamp ? active.length : (rs.spec?.replicas ?? 1);
    const diff = want - active.length;
    if (diff > 0) {
      const creates = new Set<string>();
      this.#expected.set(key, { creates, deletes: new Set(), at: Date.now() });
      const template = rs.spec?.template ?? {};
      // Slow start, as upstream: batches of 1, 2, 4, ... so a failing create (quota, bad template) fails fast.
      let remaining = Math.min(diff, 500);
      for (let batch = 1; remaining > 0; batch *= 2) {
        const size = Math.min(batch, remaining);
        remaining -= size;
        const created = await Promise.all(
          Array.from({ length: size }, () =>
            client.create(podsInfo, ns, {
              metadata: {
                generateName: `${rs.metadata.name}-`,
                labels: { ...(template.metadata?.labels ?? {}) },
                annotations: template.metadata?.annotations,
                ownerReferences: [ownerReference(rs)],
              },
              spec: structuredClone(template.spec),
            }),
          ),
        );
        for (const pod of created) {
          creates.add(pod.metadata.name);
          events.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
        }
      }
    } else if (diff < 0) {
      const victims = [...active].sort(deletionOrder).slice(0, -diff);
      const deletes = new Set<string>(victims.map((p) => p.metadata.name));
      this.#expected.set(key, { creates: new Set(), deletes, at: Date.now() });
      for (const pod of victims) {
        await client.delete(podsInfo, ns, pod.metadata.name).catch(ignoreNotFound);
        events.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
      }
    }
    const ready = active.filter(isPodReady).length;
    const status = {
      replicas: active.length,
      fullyLabeledReplicas: active.length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: rs.metadata.generation,
    };
    const current = rs.status ?? { replicas: 0 };
    if ((Object.keys(status) as (keyof typeof status)[]).some((k) => (current[k] ?? 0) !== status[k])) {
      await client
        .update(
          client.typed(this.#kind.resource),
          { ...rs, status: { ...current, ...status } },
          { subresource: 'status' },
        )
        .catch(this.#queue.requeueOn(key, 50, 409, 404));
    }
  }
}

/** Replicated is what this controller keeps pods for. */
type Replicated = Stored<ReplicaSet> | Stored<ReplicationController>;

/** ReplicatedKind is what differs between ReplicaSets and ReplicationControllers for this controller. */
export interface ReplicatedKind<T extends Replicated = Replicated> {
  kind: T['kind'] & string;
  resource: 'replicasets' | 'replicationcontrollers';
  informer(ctx: ControllerContext): Informer<T>;
  selector(object: T): Selector;
}

const REPLICA_SET: ReplicatedKind<Stored<ReplicaSet>> = {
  kind: 'ReplicaSet',
  resource: 'replicasets',
  informer: (ctx) => ctx.informers.replicasets,
  selector: (rs) => selectorFromObject(rs.spec?.selector) ?? [],
};

/** REPLICATION_CONTROLLER: upstream runs the ReplicaSet controller for ReplicationControllers too (map selector). */
export const REPLICATION_CONTROLLER: ReplicatedKind<Stored<ReplicationController>> = {
  kind: 'ReplicationController',
  resource: 'replicationcontrollers',
  informer: (ctx) => ctx.informers.replicationcontrollers,
  selector: (rc) => selectorFromMap(rc.spec?.selector),
};

/** deletionOrder puts first the pods a scale down should remove: unscheduled, pending, not ready, then newest. */
function deletionOrder(a: Stored<Pod>, b: Stored<Pod>): number {
  const rank = (p: Pod) => (!p.spec?.nodeName ? 0 : p.status?.phase === 'Pending' ? 1 : !isPodReady(p) ? 2 : 3);
  return (
    rank(a) - rank(b) ||
    Date.parse(b.metadata.creationTimestamp) - Date.parse(a.metadata.creationTimestamp) ||
    (a.metadata.name < b.metadata.name ? 1 : -1)
  );
}
