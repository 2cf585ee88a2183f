import type { Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Stored } from '../api/objects.ts';
import { ignoreStatus, onEveryChange } from '../client/client.ts';
import { isStatusError } from '../api/status.ts';
import { matches, selectorFromObject } from '../api/labels.ts';
import { WorkQueue } from './work-queue.ts';
import { controllerKey, controllerOf, keyOf, ownerReference, type ControllerContext } from './context.ts';
import { podTemplateHash } from './pod-template-hash.ts';
import { REVISION, equalIgnoreHash, maxRevision, newReplicaSetAnnotations } from './deployment-revisions.ts';
import { timestamp } from '../api/time.ts';

/**
 * DeploymentController keeps one ReplicaSet per pod template (`<deployment>-<pod-template-hash>`, the hash as a
 * label on the ReplicaSet, its selector and its pods), scales them for RollingUpdate (within maxSurge and
 * maxUnavailable) or Recreate, and reports status so `kubectl get deploy` shows `2/2 2 2`.
 */
export class DeploymentController {
  #ctx: ControllerContext;
  #queue: WorkQueue;

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.#queue = new WorkQueue((key) => this.#sync(key), {
      onError: (key, error) => ctx.logger.error('Error syncing deployment', { deployment: key, error }),
    });
    ctx.informers.deployments.addHandlers(onEveryChange((d) => this.#queue.add(keyOf(d))));
    const rsChanged = (rs: Stored<ReplicaSet>) => {
      const key = controllerKey(rs, 'Deployment');
      if (key) this.#queue.add(key);
      // An orphan ReplicaSet wakes the Deployments whose selector matches it: one of them adopts it.
      if (!controllerOf(rs)) for (const d of this.#matching(rs)) this.#queue.add(keyOf(d));
    };
    ctx.informers.replicasets.addHandlers(onEveryChange(rsChanged));
  }

  #matching(rs: Stored<ReplicaSet>): Stored<Deployment>[] {
    return this.#ctx.informers.deployments.list().filter((d) => {
      const selector = selectorFromObject(d.spec?.selector);
      return (
        d.metadata.namespace === rs.metadata.namespace &&
        selector !== undefined &&
        selector.length > 0 &&
        matches(selector, rs.metadata.labels)
      );
    });
  }

  /**
   * #claimReplicaSets is upstream's ClaimReplicaSets: orphans matching the selector are adopted (unless the
   * Deployment is being deleted), owned ones that no longer match are released.
   */
  async #claimReplicaSets(d: Stored<Deployment>): Promise<Stored<ReplicaSet>[]> {
    const { client, informers } = this.#ctx;
    const rsInfo = client.typed('replicasets');
    const selector = selectorFromObject(d.spec?.selector) ?? [];
    const owned: Stored<ReplicaSet>[] = [];
    for (const rs of informers.replicasets.list()) {
      if (rs.metadata.namespace !== d.metadata.namespace) continue;
      const owner = controllerOf(rs);
      const selected = selector.length > 0 && matches(selector, rs.metadata.labels);
      if (owner?.uid === d.metadata.uid) {
        if (selected) owned.push(rs);
        else
          await client
            .patch(
              rsInfo,
              rs.metadata.namespace,
              rs.metadata.name,
              {
                metadata: {
                  ownerReferences: (rs.metadata.ownerReferences ?? []).filter((r) => r.uid !== d.metadata.uid),
                  uid: rs.metadata.uid,
                },
              },
              'merge',
            )
            .catch(ignoreGone);
      } else if (!owner && selected && !d.metadata.deletionTimestamp && !rs.metadata.deletionTimestamp) {
        const adopted = await client
          .patch(
            rsInfo,
            rs.metadata.namespace,
            rs.metadata.name,
            {
              metadata: {
                ownerReferences: [...(rs.metadata.ownerReferences ?? []), ownerReference(d)],
                uid: rs.metadata.uid,
              },
            },
            'merge',
          )
          .catch(ignoreGone);
        if (adopted) owned.push(adopted);
      }
    }
    return owned;
  }

  async #sync(key: string): Promise<void> {
    await this.#ctx.synced;
    const { client, informers } = this.#ctx;
    const d = informers.deployments.get(key);
    if (!d?.spec || d.metadata.deletionTimestamp) return;
    const spec = d.spec;
    const ns = d.metadata.namespace;
    const rsInfo = client.typed('replicasets');
    const owned = await this.#claimReplicaSets(d);
    const hash = podTemplateHash(spec.template, d.status?.collisionCount ?? 0);
    // The new ReplicaSet is the one whose template is the Deployment's, pod-template-hash aside (upstream's
    // FindNewReplicaSet, oldest first), so an adopted ReplicaSet with the same template is not replaced.
    const byAge = [...owned].sort(
      (a, b) =>
        Date.parse(a.metadata.creationTimestamp) - Date.parse(b.metadata.creationTimestamp) ||
        (a.metadata.name < b.metadata.name ? -1 : 1),
    );
    let newRs =
      byAge.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash) ??
      byAge.find((rs) => equalIgnoreHash(rs.spec?.template, spec.template));
    const oldRss = byAge.filter((rs) => rs !== newRs);
    const nextRevision = (maxRevision(oldRss) + 1n).toString();
    const replicas = spec.replicas ?? 1;
    const recreate = spec.strategy?.type === 'Recreate';
    const oldActive = oldRss.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
    const oldPods = oldRss.reduce((n, rs) => n + (rs.status?.replicas ?? 0), 0);
    if (!newRs) {
      const initial = recreate
        ? oldPods > 0 || oldActive > 0
          ? 0
          : replicas
        : Math.min(replicas, Math.max(0, replicas + surge(d, replicas) - oldActive));
      const labels = { ...(spec.template.metadata?.labels ?? {}), 'pod-template-hash': hash };
      try {
        newRs = await client.create(rsInfo, ns, {
          metadata: {
            name: `${d.metadata.name}-${hash}`,
            labels,
            annotations: newReplicaSetAnnotations(d, undefined, nextRevision, surge(d, replicas)),
            ownerReferences: [ownerReference(d)],
          },
          spec: {
            replicas: initial,
            minReadySeconds: spec.minReadySeconds,
            selector: {
              ...spec.selector,
              matchLabels: { ...(spec.selector?.matchLabels ?? {}), 'pod-template-hash': hash },
            },
            template: { ...spec.template, metadata: { ...(spec.template.metadata ?? {}), labels } },
          },
        });
        if (initial > 0)
          this.#ctx.events.event(
            d,
            'Normal',
            'ScalingReplicaSet',
            `Scaled up replica set ${newRs.metadata.name} to ${initial} from 0`,
          );
      } catch (error) {
        if (isStatusError(error, 409)) return this.#queue.addAfter(key, 100);
        throw error;
      }
      return;
    }
    // A ReplicaSet that becomes new again (a rollback, an adoption) takes the next revision; its old one goes to
    // the revision history, as upstream's SetNewReplicaSetAnnotations.
    const wanted = newReplicaSetAnnotations(d, newRs, nextRevision, surge(d, replicas));
    const annotations = newRs.metadata.annotations;
    if (Object.entries(wanted).some(([k, v]) => annotations?.[k] !== v)) {
      newRs = await client.patch(rsInfo, ns, newRs.metadata.name, { metadata: { annotations: wanted } }, 'merge');
    }
    const revision = newRs.metadata.annotations?.[REVISION];
    if (revision && d.metadata.annotations?.[REVISION] !== revision) {
      await client
        .patch(
          client.typed('deployments'),
          ns,
          d.metadata.name,
          { metadata: { annotations: { [REVISION]: revision } } },
          'merge',
        )
        .catch(ignoreGone);
      return;
    }
    if (recreate) {
      for (const rs of oldRss) await this.#scale(d, rs, 0);
      if (oldPods === 0) await this.#scale(d, newRs, replicas);
    } else {
      const maxSurge = surge(d, replicas);
      const maxUnavailable = unavailable(d, replicas, maxSurge);
      const total = owned.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
      // Scale the new ReplicaSet up within the surge, or straight to the target when it is the only one.
      let newTarget = newRs.spec?.replicas ?? 0;
      if (oldRss.every((rs) => (rs.spec?.replicas ?? 0) === 0)) newTarget = replicas;
      else if (newTarget < replicas)
        newTarget = Math.min(replicas, newTarget + Math.max(0, replicas + maxSurge - total));
      else if (newTarget > replicas) newTarget = replicas;
      if (newTarget !== newRs.spec?.replicas) await this.#scale(d, newRs, newTarget);
      // Scale old ReplicaSets down as far as availability allows (unhealthy old pods go first, as they count for nothing).
      const available = owned.reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);
      let canRemove = Math.max(0, available - (replicas - maxUnavailable));
      for (const rs of oldRss) {
        const current = rs.spec?.replicas ?? 0;
        if (current === 0) continue;
        const unhealthy = Math.max(0, current - (rs.status?.availableReplicas ?? 0));
        const remove = Math.min(current, unhealthy + canRemove);
        canRemove -= Math.max(0, remove - unhealthy);
        if (remove > 0) await this.#scale(d, rs, current - remove);
      }
    }
    await this.#updateStatus(d, newRs, owned);
  }

  async #scale(d: Stored<Deployment>, rs: Stored<ReplicaSet>, to: number): Promise<void> {
    const from = rs.spec?.replicas ?? 0;
    if (from === to) return;
    const client = this.#ctx.client;
    await client.patch(
      client.typed('replicasets'),
      rs.metadata.namespace,
      rs.metadata.name,
      {
        metadata: { annotations: { 'deployment.kubernetes.io/desired-replicas': String(d.spec?.replicas ?? 1) } },
        spec: { replicas: to },
      },
      'merge',
    );
    this.#ctx.events.event(
      d,
      'Normal',
      'ScalingReplicaSet',
      `Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata.name} to ${to} from ${from}`,
    );
  }

  async #updateStatus(d: Stored<Deployment>, newRs: Stored<ReplicaSet>, owned: Stored<ReplicaSet>[]): Promise<void> {
    const sum = (f: (rs: ReplicaSet) => number) => owned.reduce((n, rs) => n + f(rs), 0);
    const replicas = sum((rs) => rs.status?.replicas ?? 0);
    const available = sum((rs) => rs.status?.availableReplicas ?? 0);
    const now = timestamp();
    const isAvailable =
      available >= (d.spec?.replicas ?? 1) - unavailable(d, d.spec?.replicas ?? 1, surge(d, d.spec?.replicas ?? 1));
    const complete =
      (newRs.status?.availableReplicas ?? 0) === (d.spec?.replicas ?? 1) && replicas === (d.spec?.replicas ?? 1);
    const previous = d.status?.conditions ?? [];
    const condition = (type: string, status: string, reason: string, message: string): DeploymentCondition => {
      const old = previous.find((c) => c.type === type);
      return {
        type,
        status,
        lastUpdateTime: old?.status === status && old?.reason === reason ? old.lastUpdateTime : now,
        lastTransitionTime: old?.status === status ? old.lastTransitionTime : now,
        reason,
        message,
      };
    };
    const status = {
      observedGeneration: d.metadata.generation,
      replicas,
      updatedReplicas: newRs.status?.replicas ?? 0,
      readyReplicas: sum((rs) => rs.status?.readyReplicas ?? 0),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, (d.spec?.replicas ?? 1) - available),
      conditions: [
        condition(
          'Available',
          isAvailable ? 'True' : 'False',
          isAvailable ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
          isAvailable ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.',
        ),
        condition(
          'Progressing',
          'True',
          complete ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
          complete
            ? `ReplicaSet "${newRs.metadata.name}" has successfully progressed.`
            : `ReplicaSet "${newRs.metadata.name}" is progressing.`,
        ),
      ],
    };
    const strip = (s: DeploymentStatus | undefined) =>
      JSON.stringify({ ...s, conditions: (s?.conditions ?? []).map((c) => [c.type, c.status, c.reason]) });
    if (strip(status) === strip({ ...d.status, conditions: d.status?.conditions })) return;
    const client = this.#ctx.client;
    await client
      .update(client.typed('deployments'), { ...d, status: { ...d.status, ...status } }, { subresource: 'status' })
      .catch(this.#queue.requeueOn(keyOf(d), 50, 409, 404));
  }
}

/** ignoreGone: the object went away, or changed under us (the next sync sees the change). */
const ignoreGone = ignoreStatus(404, 409);

/** surge is maxSurge resolved against replicas (percentages round up, as upstream). */
function surge(d: Deployment, replicas: number): number {
  if (d.spec?.strategy?.type === 'Recreate') return 0;
  return resolve(d.spec?.strategy?.rollingUpdate?.maxSurge ?? '25%', replicas, true);
}

/** unavailable is maxUnavailable resolved (percentages round down); never 0 together with a 0 surge. */
function unavailable(d: Deployment, replicas: number, maxSurge: number): number {
  if (d.spec?.strategy?.type === 'Recreate') return replicas;
  const value = resolve(d.spec?.strategy?.rollingUpdate?.maxUnavailable ?? '25%', replicas, false);
  return value === 0 && maxSurge === 0 ? 1 : Math.min(value, replicas);
}

function resolve(value: number | string, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(value);
  if (!m) return Number(value) || 0;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}
