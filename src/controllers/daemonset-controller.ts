import type { ControllerRevision, DaemonSet, DaemonSetStatus } from 'kubernetes-types/apps/v1.js';
import type { Node, Pod, PodSpec, PodTemplateSpec, Toleration } from 'kubernetes-types/core/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { Stored } from '../api/objects.ts';
import { ignoreNotFound, ignoreStatus, onEveryChange } from '../client/client.ts';
import { matches, selectorFromObject } from '../api/labels.ts';
import { WorkQueue } from './work-queue.ts';
import { controllerKey, controllerOf, isPodReady, keyOf, ownerReference, type ControllerContext } from './context.ts';
import { podTemplateHash } from './pod-template-hash.ts';

const REVISION_HASH = 'controller-revision-hash';
const TEMPLATE_GENERATION = 'pod-template-generation';

/** DAEMON_TOLERATIONS are the tolerations upstream adds to every daemon pod. */
const DAEMON_TOLERATIONS: Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

/**
 * DaemonSetController runs one pod of each DaemonSet on every node it should run on (node selector, required node
 * affinity, taints against the pod's and upstream's daemon tolerations), pinned with a `metadata.name` node
 * affinity for the scheduler; it records each template as a ControllerRevision (`<ds>-<hash>`, for `kubectl
 * rollout history|undo`), replaces out-of-date pods within maxUnavailable (RollingUpdate) or leaves them (OnDelete),
 * and reports the counts `kubectl get ds` and `rollout status` read.
 */
export class DaemonSetController {
  #ctx: ControllerContext;
  #queue: WorkQueue;
  /** Pods created but maybe not yet in the cache, by `<ds key>|<node>` (upstream's expectations). */
  #pending = new Map<string, number>();

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.#queue = new WorkQueue((key) => this.#sync(key), {
      onError: (key, error) => ctx.logger.error('Error syncing daemon set', { daemonset: key, error }),
    });
    ctx.informers.daemonsets.addHandlers({
      onAdd: (ds) => this.#queue.add(keyOf(ds)),
      onUpdate: (_o, ds) => this.#queue.add(keyOf(ds)),
    });
    const podChanged = (pod: Stored<Pod>) => {
      const key = controllerKey(pod, 'DaemonSet');
      if (key) this.#queue.add(key);
    };
    ctx.informers.pods.addHandlers(onEveryChange(podChanged));
    const all = () => {
      for (const ds of ctx.informers.daemonsets.list()) this.#queue.add(keyOf(ds));
    };
    ctx.informers.nodes.addHandlers({
      onAdd: all,
      onUpdate: (o, n) =>
        JSON.stringify([o.metadata.labels, o.spec]) !== JSON.stringify([n.metadata.labels, n.spec]) ? all() : undefined,
      onDelete: all,
    });
  }

  async #sync(key: string): Promise<void> {
    await this.#ctx.synced;
    const { client, informers, events } = this.#ctx;
    const ds = informers.daemonsets.get(key);
    if (!ds?.spec || ds.metadata.deletionTimestamp) return;
    const spec = ds.spec;
    const ns = ds.metadata.namespace;
    const podsInfo = client.typed('pods');
    const hash = podTemplateHash(spec.template, ds.status?.collisionCount ?? 0);
    await this.#revision(ds, hash);
    const selector = selectorFromObject(spec.selector) ?? [];
    const pods = informers.pods
      .list()
      .filter(
        (p) =>
          p.metadata.namespace === ns &&
          controllerOf(p)?.uid === ds.metadata.uid &&
          matches(selector, p.metadata.labels),
      );
    const nodes = informers.nodes.list();
    const template = spec.template ?? {};
    const onDelete = spec.updateStrategy?.type === 'OnDelete';
    const maxUnavailable = resolveMaxUnavailable(spec.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1, nodes.length);
    let desired = 0;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let updated = 0;
    let available = 0;
    const replace: Stored<Pod>[] = [];
    let unavailableNow = 0;
    for (const node of nodes) {
      const nodeName = node.metadata.name;
      const here = pods.filter((p) => nodeOf(p) === nodeName && !p.metadata.deletionTimestamp);
      const failed = here.filter((p) => p.status?.phase === 'Failed');
      for (const pod of failed) {
        await client.delete(podsInfo, ns, pod.metadata.name).catch(ignoreNotFound);
        events.event(
          ds,
          'Warning',
          'FailedDaemonPod',
          `Found failed daemon pod ${ns}/${pod.metadata.name} on node ${nodeName}, will try to kill it`,
        );
      }
      const live = here.filter((p) => p.status?.phase !== 'Failed');
      if (!shouldRun(template, node)) {
        if (live.length) misscheduled++;
        for (const pod of live) await client.delete(podsInfo, ns, pod.metadata.name).catch(ignoreNotFound);
        continue;
      }
      desired++;
      if (live.length === 0) {
        const pendingKey = `${key}|${nodeName}`;
        if (Date.now() - (this.#pending.get(pendingKey) ?? 0) < 5000) continue;
        this.#pending.set(pendingKey, Date.now());
        const pod = await client.create(podsInfo, ns, daemonPod(ds, template, hash, nodeName));
        events.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
        continue;
      }
      this.#pending.delete(`${key}|${nodeName}`);
      current++;
      // Keep one pod per node: the newest up-to-date one, else the oldest.
      const sorted = [...live].sort(
        (a, b) =>
          Number(b.metadata.labels?.[REVISION_HASH] === hash) - Number(a.metadata.labels?.[REVISION_HASH] === hash) ||
          Date.parse(a.metadata.creationTimestamp) - Date.parse(b.metadata.creationTimestamp),
      );
      for (const extra of sorted.slice(1)) await client.delete(podsInfo, ns, extra.metadata.name).catch(ignoreNotFound);
      const pod = sorted[0]!;
      const isReady = isPodReady(pod);
      if (isReady) {
        ready++;
        available++;
      } else unavailableNow++;
      if (pod.metadata.labels?.[REVISION_HASH] === hash) updated++;
      else if (!onDelete) replace.push(pod);
    }
    // Rolling update: delete out-of-date pods, unavailable ones first, within maxUnavailable.
    replace.sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b)));
    for (const pod of replace) {
      if (isPodReady(pod)) {
        if (unavailableNow >= maxUnavailable) break;
        unavailableNow++;
      }
      await client.delete(podsInfo, ns, pod.metadata.name).catch(ignoreNotFound);
      events.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
    }
    const status: DaemonSetStatus = {
      ...(ds.status ?? {}),
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      desiredNumberScheduled: desired,
      numberReady: ready,
      observedGeneration: ds.metadata.generation,
      updatedNumberScheduled: updated,
      numberAvailable: available,
      numberUnavailable: Math.max(0, desired - available),
    };
    if (status.numberAvailable === 0) delete status.numberAvailable;
    if (status.numberUnavailable === 0) delete status.numberUnavailable;
    if (JSON.stringify(status) !== JSON.stringify(ds.status ?? {})) {
      await client
        .update(client.typed('daemonsets'), { ...ds, status }, { subresource: 'status' })
        .catch(this.#queue.requeueOn(key, 50, 409, 404));
    }
  }

  /** #revision finds or creates the ControllerRevision of the current template (revision = highest + 1). */
  async #revision(ds: Stored<DaemonSet>, hash: string): Promise<Stored<ControllerRevision> | undefined> {
    const { client, informers } = this.#ctx;
    const ns = ds.metadata.namespace;
    const info = client.typed('controllerrevisions');
    const owned = informers.controllerrevisions
      .list()
      .filter((cr) => cr.metadata.namespace === ns && controllerOf(cr)?.uid === ds.metadata.uid);
    const max = Math.max(0, ...owned.map((cr) => Number(cr.revision ?? 0)));
    const existing = owned.find((cr) => cr.metadata.labels?.[REVISION_HASH] === hash);
    if (existing) {
      if (Number(existing.revision) < max)
        return client.patch(info, ns, existing.metadata.name, { revision: max + 1 }, 'merge').catch(ignoreNotFound);
      return existing;
    }
    const created = await client
      .create(info, ns, {
        metadata: {
          name: `${ds.metadata.name}-${hash}`,
          labels: { ...(ds.spec?.selector?.matchLabels ?? {}), [REVISION_HASH]: hash },
          ownerReferences: [ownerReference(ds)],
        },
        data: { spec: { template: { ...structuredClone(ds.spec?.template), $patch: 'replace' } } },
        revision: max + 1,
      })
      .catch(ignoreStatus(409));
    // Keep revisionHistoryLimit old revisions (those no pod uses any more).
    const limit = ds.spec?.revisionHistoryLimit ?? 10;
    const old = owned
      .filter((cr) => cr.metadata.labels?.[REVISION_HASH] !== hash)
      .sort((a, b) => Number(a.revision) - Number(b.revision));
    for (const cr of old.slice(0, Math.max(0, old.length - limit)))
      await client.delete(info, ns, cr.metadata.name).catch(ignoreNotFound);
    return created;
  }
}

function daemonPod(
  ds: Stored<DaemonSet>,
  template: PodTemplateSpec,
  hash: string,
  nodeName: string,
): { metadata: ObjectMeta; spec: Partial<PodSpec> } {
  const spec: Partial<PodSpec> = structuredClone(template.spec ?? {});
  const tolerations = [...(spec.tolerations ?? [])];
  for (const t of DAEMON_TOLERATIONS)
    if (!tolerations.some((x) => x.key === t.key && x.effect === t.effect)) tolerations.push(t);
  if (spec.hostNetwork)
    tolerations.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  spec.tolerations = tolerations;
  // Pin to the node the way upstream does (the scheduler binds it): required affinity on metadata.name.
  spec.affinity = {
    ...(spec.affinity ?? {}),
    nodeAffinity: {
      ...(spec.affinity?.nodeAffinity ?? {}),
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }],
      },
    },
  };
  return {
    metadata: {
      generateName: `${ds.metadata.name}-`,
      labels: {
        ...(template.metadata?.labels ?? {}),
        [REVISION_HASH]: hash,
        [TEMPLATE_GENERATION]: String(ds.metadata.generation ?? 1),
      },
      annotations: template.metadata?.annotations,
      ownerReferences: [ownerReference(ds)],
    },
    spec,
  };
}

/** nodeOf is the node a daemon pod is bound or pinned to. */
function nodeOf(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  return terms.flatMap((t) => t.matchFields ?? []).find((f) => f.key === 'metadata.name' && f.operator === 'In')
    ?.values?.[0];
}

/** shouldRun: the node matches the template's node selector and required affinity, and every taint is tolerated. */
function shouldRun(template: PodTemplateSpec, node: Node): boolean {
  const spec: Partial<PodSpec> = template.spec ?? {};
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  if (
    terms.length &&
    !terms.some((t) =>
      matches(
        selectorFromObject({
          matchExpressions: (t.matchExpressions ?? []).filter((e) =>
            ['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(e.operator),
          ),
        }) ?? [],
        labels,
      ),
    )
  )
    return false;
  const tolerations = [...(spec.tolerations ?? []), ...DAEMON_TOLERATIONS];
  for (const taint of node.spec?.taints ?? []) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    const tolerated = tolerations.some(
      (t) =>
        (!t.effect || t.effect === taint.effect) &&
        (t.operator === 'Exists'
          ? !t.key || t.key === taint.key
          : t.key === taint.key && (t.value ?? '') === (taint.value ?? '')),
    );
    if (!tolerated) return false;
  }
  return true;
}

function resolveMaxUnavailable(value: number | string, total: number): number {
  if (typeof value === 'number') return Math.max(1, value);
  const m = /^(\d+)%$/.exec(value);
  return Math.max(1, m ? Math.floor((Number(m[1]) * total) / 100) : Number(value) || 1);
}
