import type { Job, JobCondition } from 'kubernetes-types/batch/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { Stored } from '../api/objects.ts';
import { ignoreNotFound, ignoreStatus, onEveryChange } from '../client/client.ts';
import { matches, selectorFromObject } from '../api/labels.ts';
import { WorkQueue } from './work-queue.ts';
import { controllerKey, controllerOf, isPodReady, keyOf, ownerReference, type ControllerContext } from './context.ts';
import { timestamp } from '../api/time.ts';

/** JOB_TRACKING_FINALIZER keeps a finished pod until its Job has counted it (upstream's tracking with finalizers). */
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';

/**
 * JobController runs a Job's pods to completion as upstream's does: up to `parallelism` pods at a time until
 * `completions` have succeeded, counting each finished pod exactly once (a pod keeps the tracking finalizer until
 * its uid is in `status.uncountedTerminatedPods`, and moves to the counters once the finalizer is gone), failing the
 * Job after `backoffLimit` failures or `activeDeadlineSeconds`, and reporting the Complete or Failed condition.
 */
export class JobController {
  #ctx: ControllerContext;
  #queue: WorkQueue;

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.#queue = new WorkQueue((key) => this.#sync(key), {
      onError: (key, error) => ctx.logger.error('Error syncing job', { job: key, error }),
    });
    ctx.informers.jobs.addHandlers(onEveryChange((j) => this.#queue.add(keyOf(j))));
    const podChanged = (pod: Stored<Pod>) => {
      const key = controllerKey(pod, 'Job');
      if (key) this.#queue.add(key);
    };
    ctx.informers.pods.addHandlers(onEveryChange(podChanged));
  }

  async #sync(key: string): Promise<void> {
    await this.#ctx.synced;
    const { client, informers, events } = this.#ctx;
    const podsInfo = client.typed('pods');
    const job = informers.jobs.get(key);
    const ns = key.split('/')[0]!;
    if (!job || job.metadata.deletionTimestamp) {
      // The Job is gone or going: its pods no longer need counting, so nothing may hold them back.
      const name = key.split('/')[1];
      await this.#releaseTracking(
        informers.pods.list().filter((p) => {
          const owner = controllerOf(p);
          return (
            p.metadata.namespace === ns &&
            owner?.kind === 'Job' &&
            owner.name === name &&
            (!job || owner.uid === job.metadata.uid)
          );
        }),
      );
      return;
    }
    const spec = job.spec;
    if (!spec) return;
    const owned = informers.pods
      .list()
      .filter((p) => p.metadata.namespace === ns && controllerOf(p)?.uid === job.metadata.uid);
    const selector = selectorFromObject(job.spec?.selector) ?? [];
    const pods = owned.filter((p) => matches(selector, p.metadata.labels));
    const status = structuredClone(job.status ?? {});
    const uncounted = {
      succeeded: [...(status.uncountedTerminatedPods?.succeeded ?? [])],
      failed: [...(status.uncountedTerminatedPods?.failed ?? [])],
    };
    const now = timestamp();
    const finished = finishedCondition(job);
    // 1. Finished pods still carrying the finalizer and not yet recorded go into uncountedTerminatedPods.
    for (const pod of pods) {
      // A pod deleted before it finished counts as failed, as upstream's TerminatingOrFailed replacement policy does.
      const phase =
        pod.status?.phase === 'Succeeded'
          ? 'Succeeded'
          : pod.status?.phase === 'Failed' || pod.metadata.deletionTimestamp
            ? 'Failed'
            : undefined;
      if (!phase || !(pod.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER)) continue;
      const list = phase === 'Succeeded' ? uncounted.succeeded : uncounted.failed;
      if (!uncounted.succeeded.includes(pod.metadata.uid) && !uncounted.failed.includes(pod.metadata.uid))
        list.push(pod.metadata.uid);
    }
    // 2. Uncounted pods whose finalizer is gone (or which are gone) move into the counters.
    const tracked = new Set(
      pods.filter((p) => (p.metadata.finalizers ?? []).includes(JOB_TRACKING_FINALIZER)).map((p) => p.metadata.uid),
    );
    const count = (list: string[]) => list.filter((uid) => !tracked.has(uid));
    const newlySucceeded = count(uncounted.succeeded);
    const newlyFailed = count(uncounted.failed);
    status.succeeded = (status.succeeded ?? 0) + newlySucceeded.length;
    status.failed = (status.failed ?? 0) + newlyFailed.length;
    uncounted.succeeded = uncounted.succeeded.filter((uid) => tracked.has(uid));
    uncounted.failed = uncounted.failed.filter((uid) => tracked.has(uid));
    status.uncountedTerminatedPods = uncounted;
    const active = pods.filter(
      (p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed' && !p.metadata.deletionTimestamp,
    );
    const succeededTotal = status.succeeded + uncounted.succeeded.length;
    const failedTotal = status.failed + uncounted.failed.length;
    const completions: number | undefined = spec.completions ?? undefined;
    const parallelism: number = spec.parallelism ?? 1;
    const suspended = spec.suspend === true;
    if (!finished && !suspended) status.startTime ??= now;
    let conditions: JobCondition[] = [...(status.conditions ?? [])];
    let finishReason: { type: string; reason: string; message: string } | undefined;
    if (!finished) {
      const deadline = spec.activeDeadlineSeconds;
      if (failedTotal > (spec.backoffLimit ?? 6))
        finishReason = {
          type: 'Failed',
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
        };
      else if (
        deadline !== undefined &&
        status.startTime &&
        Date.now() - Date.parse(status.startTime) >= deadline * 1000
      )
        finishReason = {
          type: 'Failed',
          reason: 'DeadlineExceeded',
          message: 'Job was active longer than specified deadline',
        };
      else if (completions !== undefined ? succeededTotal >= completions : succeededTotal > 0 && active.length === 0) {
        finishReason = {
          type: 'Complete',
          reason: 'CompletionsReached',
          message: 'Reached expected number of succeeded pods',
        };
      }
    }
    // The condition waits until every finished pod is counted, so a finished Job's counters are final.
    if (finishReason && !finished && uncounted.succeeded.length === 0 && uncounted.failed.length === 0) {
      // As upstream since 1.31: the interim condition first (SuccessCriteriaMet or FailureTarget), then the final one.
      const interim = finishReason.type === 'Complete' ? 'SuccessCriteriaMet' : 'FailureTarget';
      conditions = conditions.filter((c) => c.type !== interim && c.type !== finishReason!.type);
      conditions.push({
        type: interim,
        status: 'True',
        lastProbeTime: now,
        lastTransitionTime: now,
        reason: finishReason.reason,
        message: finishReason.message,
      });
      conditions.push({
        type: finishReason.type,
        status: 'True',
        lastProbeTime: now,
        lastTransitionTime: now,
        reason: finishReason.reason,
        message: finishReason.message,
      });
      status.completionTime = finishReason.type === 'Complete' ? now : status.completionTime;
      events.event(
        job,
        finishReason.type === 'Complete' ? 'Normal' : 'Warning',
        finishReason.type === 'Complete' ? 'Completed' : finishReason.reason,
        finishReason.type === 'Complete' ? 'Job completed' : finishReason.message,
      );
    }
    const done = Boolean(finished || finishReason);
    // Pods to start or stop.
    if (done || suspended) {
      for (const pod of active) await client.delete(podsInfo, ns, pod.metadata.name).catch(ignoreNotFound);
    } else {
      const remaining = completions !== undefined ? completions - succeededTotal : succeededTotal > 0 ? 0 : parallelism;
      const want = Math.max(0, Math.min(parallelism, remaining));
      const template = spec.template ?? {};
      for (let i = active.length; i < want; i++) {
        const pod = await client.create(podsInfo, ns, {
          metadata: {
            generateName: `${job.metadata.name}-`,
            labels: { ...(template.metadata?.labels ?? {}) },
            annotations: template.metadata?.annotations,
            ownerReferences: [ownerReference(job)],
            finalizers: [JOB_TRACKING_FINALIZER],
          },
          spec: structuredClone(template.spec),
        });
        events.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
      }
    }
    status.active = done ? 0 : active.length;
    status.ready = active.filter(isPodReady).length;
    status.terminating = pods.filter(
      (p) => p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed',
    ).length;
    status.conditions = conditions.length ? conditions : undefined;
    if (status.conditions === undefined) delete status.conditions;
    if (suspended)
      status.conditions = upsertCondition(conditions, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now);
    else if (conditions.some((c) => c.type === 'Suspended' && c.status === 'True'))
      status.conditions = upsertCondition(conditions, 'Suspended', 'False', 'JobResumed', 'Job resumed', now);
    for (const k of ['active', 'failed', 'succeeded', 'terminating'] as const)
      if (status[k] === 0 && (job.status?.[k] ?? 0) === 0) delete status[k];
    if (JSON.stringify(status) !== JSON.stringify(job.status ?? {})) {
      const updated = await client
        .update(client.typed('jobs'), { ...job, status }, { subresource: 'status' })
        .catch(this.#queue.requeueOn(key, 50, 409, 404));
      if (!updated) return;
    }
    // 3. Once recorded, finished pods lose the finalizer (they are then counted on the next sync).
    await this.#releaseTracking(
      pods.filter((p) => uncounted.succeeded.includes(p.metadata.uid) || uncounted.failed.includes(p.metadata.uid)),
    );
    if (!done && spec.activeDeadlineSeconds !== undefined) this.#queue.addAfter(key, 1000);
  }

  async #releaseTracking(pods: Stored<Pod>[]): Promise<void> {
    const client = this.#ctx.client;
    for (const pod of pods) {
      const finalizers: string[] = pod.metadata.finalizers ?? [];
      if (!finalizers.includes(JOB_TRACKING_FINALIZER)) continue;
      await client
        .patch(
          client.typed('pods'),
          pod.metadata.namespace,
          pod.metadata.name,
          [
            { op: 'test', path: '/metadata/resourceVersion', value: pod.metadata.resourceVersion },
            {
              op: 'replace',
              path: '/metadata/finalizers',
              value: finalizers.filter((f) => f !== JOB_TRACKING_FINALIZER),
            },
          ],
          'json',
        )
        .catch(ignoreStatus(404, 422, 409));
    }
  }
}

/** finishedCondition is the Job's Complete or Failed condition when true. */
export function finishedCondition(job: Job): JobCondition | undefined {
  return (job.status?.conditions ?? []).find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
}

function upsertCondition(
  conditions: JobCondition[],
  type: string,
  status: string,
  reason: string,
  message: string,
  now: string,
): JobCondition[] {
  const old = conditions.find((c) => c.type === type);
  if (old && old.status === status) return conditions;
  return [
    ...conditions.filter((c) => c.type !== type),
    { type, status, lastProbeTime: now, lastTransitionTime: now, reason, message },
  ];
}
