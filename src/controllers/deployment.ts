import { isStatusError } from '../api/status.ts';
import { WorkQueue } from './work-queue.ts';
import { controllerOf, keyOf, ownerReference, type ControllerContext } from './context.ts';
import { podTemplateHash } from './pod-template-hash.ts';

const REVISION = 'deployment.kubernetes.io/revision';

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
    this.#queue = new WorkQueue((key) => this.#sync(key), { onError: (key, error) => ctx.logger.error('Error syncing deployment', { deployment: key, error }) });
    ctx.informers.deployments.addHandlers({ onAdd: (d) => this.#queue.add(keyOf(d)), onUpdate: (_o, d) => this.#queue.add(keyOf(d)), onDelete: (d) => this.#queue.add(keyOf(d)) });
    const rsChanged = (rs: any) => {
      const owner = controllerOf(rs);
      if (owner?.kind === 'Deployment') this.#queue.add(`${rs.metadata.namespace}/${owner.name}`);
    };
    ctx.informers.replicasets.addHandlers({ onAdd: rsChanged, onUpdate: (_o, rs) => rsChanged(rs), onDelete: rsChanged });
  }

  async #sync(key: string): Promise<void> {
    await this.#ctx.synced;
    const { client, informers } = this.#ctx;
    const d = informers.deployments.get(key);
    if (!d || d.metadata.deletionTimestamp) return;
    const ns = d.metadata.namespace;
    const rsInfo = client.resource('replicasets');
    const owned = informers.replicasets.list().filter((rs) => rs.metadata.namespace === ns && controllerOf(rs)?.uid === d.metadata.uid);
    const hash = podTemplateHash(d.spec.template, d.status?.collisionCount ?? 0);
    let newRs = owned.find((rs) => rs.metadata.labels?.['pod-template-hash'] === hash);
    const oldRss = owned.filter((rs) => rs !== newRs).sort((a, b) => Date.parse(a.metadata.creationTimestamp) - Date.parse(b.metadata.creationTimestamp));
    const replicas = d.spec.replicas ?? 1;
    const recreate = d.spec.strategy?.type === 'Recreate';
    const oldActive = oldRss.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
    const oldPods = oldRss.reduce((n, rs) => n + (rs.status?.replicas ?? 0), 0);
    if (!newRs) {
      const maxRevision = Math.max(0, ...owned.map((rs) => Number(rs.metadata.annotations?.[REVISION] ?? 0)));
      const initial = recreate ? (oldPods > 0 || oldActive > 0 ? 0 : replicas) : Math.min(replicas, Math.max(0, replicas + surge(d, replicas) - oldActive));
      const labels = { ...(d.spec.template.metadata?.labels ?? {}), 'pod-template-hash': hash };
      try {
        newRs = await client.create(rsInfo, ns, {
          metadata: { name: `${d.metadata.name}-${hash}`, labels, annotations: { [REVISION]: String(maxRevision + 1), 'deployment.kubernetes.io/desired-replicas': String(replicas) }, ownerReferences: [ownerReference(d)] },
          spec: {
            replicas: initial,
            minReadySeconds: d.spec.minReadySeconds,
            selector: { ...d.spec.selector, matchLabels: { ...(d.spec.selector?.matchLabels ?? {}), 'pod-template-hash': hash } },
            template: { ...d.spec.template, metadata: { ...(d.spec.template.metadata ?? {}), labels } },
          },
        });
        if (initial > 0) this.#ctx.events.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${newRs.metadata.name} to ${initial} from 0`);
      } catch (error) {
        if (isStatusError(error, 409)) return this.#queue.addAfter(key, 100);
        throw error;
      }
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
      let newTarget = newRs.spec.replicas ?? 0;
      if (oldRss.every((rs) => (rs.spec?.replicas ?? 0) === 0)) newTarget = replicas;
      else if (newTarget < replicas) newTarget = Math.min(replicas, newTarget + Math.max(0, replicas + maxSurge - total));
      else if (newTarget > replicas) newTarget = replicas;
      if (newTarget !== newRs.spec.replicas) await this.#scale(d, newRs, newTarget);
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

  async #scale(d: any, rs: any, to: number): Promise<void> {
    const from = rs.spec?.replicas ?? 0;
    if (from === to) return;
    const client = this.#ctx.client;
    await client.patch(client.resource('replicasets'), rs.metadata.namespace, rs.metadata.name, { metadata: { annotations: { 'deployment.kubernetes.io/desired-replicas': String(d.spec.replicas ?? 1) } }, spec: { replicas: to } }, 'merge');
    this.#ctx.events.event(d, 'Normal', 'ScalingReplicaSet', `Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata.name} to ${to} from ${from}`);
  }

  async #updateStatus(d: any, newRs: any, owned: any[]): Promise<void> {
    const sum = (f: (rs: any) => number) => owned.reduce((n, rs) => n + f(rs), 0);
    const replicas = sum((rs) => rs.status?.replicas ?? 0);
    const available = sum((rs) => rs.status?.availableReplicas ?? 0);
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const isAvailable = available >= (d.spec.replicas ?? 1) - unavailable(d, d.spec.replicas ?? 1, surge(d, d.spec.replicas ?? 1));
    const complete = (newRs.status?.availableReplicas ?? 0) === (d.spec.replicas ?? 1) && replicas === (d.spec.replicas ?? 1);
    const previous: any[] = d.status?.conditions ?? [];
    const condition = (type: string, status: string, reason: string, message: string) => {
      const old = previous.find((c) => c.type === type);
      return { type, status, lastUpdateTime: old?.status === status && old?.reason === reason ? old.lastUpdateTime : now, lastTransitionTime: old?.status === status ? old.lastTransitionTime : now, reason, message };
    };
    const status = {
      observedGeneration: d.metadata.generation,
      replicas,
      updatedReplicas: newRs.status?.replicas ?? 0,
      readyReplicas: sum((rs) => rs.status?.readyReplicas ?? 0),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, (d.spec.replicas ?? 1) - available),
      conditions: [
        condition('Available', isAvailable ? 'True' : 'False', isAvailable ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable', isAvailable ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.'),
        condition('Progressing', 'True', complete ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated', complete ? `ReplicaSet "${newRs.metadata.name}" has successfully progressed.` : `ReplicaSet "${newRs.metadata.name}" is progressing.`),
      ],
    };
    const strip = (s: any) => JSON.stringify({ ...s, conditions: (s?.conditions ?? []).map((c: any) => [c.type, c.status, c.reason]) });
    if (strip(status) === strip({ ...d.status, conditions: d.status?.conditions })) return;
    const client = this.#ctx.client;
    await client.update(client.resource('deployments'), { ...d, status: { ...d.status, ...status } }, { subresource: 'status' }).catch((error) => {
      if (!isStatusError(error, 409) && !isStatusError(error, 404)) throw error;
      this.#queue.addAfter(keyOf(d), 50);
    });
  }
}

/** surge is maxSurge resolved against replicas (percentages round up, as upstream). */
function surge(d: any, replicas: number): number {
  if (d.spec.strategy?.type === 'Recreate') return 0;
  return resolve(d.spec.strategy?.rollingUpdate?.maxSurge ?? '25%', replicas, true);
}

/** unavailable is maxUnavailable resolved (percentages round down); never 0 together with a 0 surge. */
function unavailable(d: any, replicas: number, maxSurge: number): number {
  if (d.spec.strategy?.type === 'Recreate') return replicas;
  const value = resolve(d.spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%', replicas, false);
  return value === 0 && maxSurge === 0 ? 1 : Math.min(value, replicas);
}

function resolve(value: number | string, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(value);
  if (!m) return Number(value) || 0;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}
