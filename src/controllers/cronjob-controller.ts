import type { CronJob, CronJobStatus, Job } from 'kubernetes-types/batch/v1.js';
import type { ObjectReference } from 'kubernetes-types/core/v1.js';
import type { Stored } from '../api/objects.ts';
import { ignoreNotFound, onEveryChange } from '../client/client.ts';
import { nextAfter, parseCron } from '../api/cron.ts';
import { isStatusError } from '../api/status.ts';
import { WorkQueue } from './work-queue.ts';
import { controllerKey, controllerOf, keyOf, ownerReference, type ControllerContext } from './context.ts';
import { finishedCondition } from './job-controller.ts';
import { timestamp } from '../api/time.ts';

/** ActiveStatus is a CronJob's status while a sync works on it: the active list always there. */
type ActiveStatus = CronJobStatus & { active: ObjectReference[] };

/** Upstream gives up catching up after this many missed start times and starts only the latest. */
const MAX_MISSED = 100;

/**
 * CronJobController creates a Job (`<cronjob>-<scheduled minute since the epoch>`) at each scheduled time of a
 * CronJob, in its time zone, honouring suspend, startingDeadlineSeconds and the concurrency policy (Allow, Forbid,
 * Replace); it keeps `status.active`, `lastScheduleTime` and `lastSuccessfulTime`, and deletes finished Jobs beyond
 * the history limits, as upstream's CronJob controller (v2) does.
 */
export class CronJobController {
  #ctx: ControllerContext;
  #queue: WorkQueue;

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.#queue = new WorkQueue((key) => this.#sync(key), {
      onError: (key, error) => ctx.logger.error('Error syncing CronJob', { cronjob: key, error }),
    });
    ctx.informers.cronjobs.addHandlers({
      onAdd: (cj) => this.#queue.add(keyOf(cj)),
      onUpdate: (_o, cj) => this.#queue.add(keyOf(cj)),
    });
    const jobChanged = (job: Stored<Job>) => {
      const key = controllerKey(job, 'CronJob');
      if (key) this.#queue.add(key);
    };
    ctx.informers.jobs.addHandlers(onEveryChange(jobChanged));
  }

  async #sync(key: string): Promise<void> {
    await this.#ctx.synced;
    const { client, informers, events } = this.#ctx;
    const cj = informers.cronjobs.get(key);
    if (!cj?.spec) return;
    const spec = cj.spec;
    const ns = cj.metadata.namespace;
    const jobs = informers.jobs
      .list()
      .filter((j) => j.metadata.namespace === ns && controllerOf(j)?.uid === cj.metadata.uid);
    const status = structuredClone(cj.status ?? {});
    let active: ObjectReference[] = [...(status.active ?? [])];
    for (const job of jobs) {
      const inActive = active.some((ref) => ref.uid === job.metadata.uid);
      const finished = finishedCondition(job);
      if (inActive && finished) {
        active = active.filter((ref) => ref.uid !== job.metadata.uid);
        events.event(
          cj,
          'Normal',
          'SawCompletedJob',
          `Saw completed job: ${job.metadata.name}, condition: ${finished.type}`,
        );
      } else if (!inActive && !finished) {
        events.event(
          cj,
          'Warning',
          'UnexpectedJob',
          `Saw a job that the controller did not create or forgot: ${job.metadata.name}`,
        );
      }
      if (
        finished?.type === 'Complete' &&
        job.status?.completionTime &&
        (!status.lastSuccessfulTime || Date.parse(job.status.completionTime) > Date.parse(status.lastSuccessfulTime))
      ) {
        status.lastSuccessfulTime = job.status.completionTime;
      }
    }
    // Jobs in the active list that no longer exist.
    active = active.filter(
      (ref) =>
        jobs.some((j) => j.metadata.uid === ref.uid) ||
        informers.jobs.get(`${ns}/${ref.name}`)?.metadata.uid === ref.uid,
    );
    const current: ActiveStatus = { ...status, active };
    let requeueAt: number | undefined;
    if (!cj.metadata.deletionTimestamp && spec.suspend !== true) {
      const schedule = parseCron(spec.schedule);
      const tz = spec.timeZone ?? undefined;
      const now = Date.now();
      const earliestBase = Date.parse(current.lastScheduleTime ?? cj.metadata.creationTimestamp);
      const deadline = spec.startingDeadlineSeconds;
      const earliest = deadline !== undefined ? Math.max(earliestBase, now - deadline * 1000) : earliestBase;
      let scheduled: number | undefined;
      let missed = 0;
      for (let t = nextAfter(schedule, earliest, tz); t !== undefined && t <= now; t = nextAfter(schedule, t, tz)) {
        scheduled = t;
        if (++missed > MAX_MISSED) break;
      }
      if (missed > MAX_MISSED)
        events.event(
          cj,
          'Warning',
          'TooManyMissedTimes',
          `too many missed start times: ${missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`,
        );
      if (scheduled !== undefined) await this.#start(cj, scheduled, current, jobs);
      requeueAt = nextAfter(schedule, now, tz);
    }
    await this.#cleanHistory(cj, jobs);
    const { active: _active, ...withoutActive } = current;
    const next: CronJobStatus =
      current.active.length === 0 && cj.status?.active === undefined ? withoutActive : current;
    if (JSON.stringify(next) !== JSON.stringify(cj.status ?? {})) {
      await client
        .update(client.typed('cronjobs'), { ...cj, status: next }, { subresource: 'status' })
        .catch(this.#queue.requeueOn(key, 100, 409, 404));
    }
    if (requeueAt !== undefined) this.#queue.addAfter(key, Math.max(100, requeueAt - Date.now() + 100));
  }

  /** #start creates the Job for one scheduled time, after applying the concurrency policy. */
  async #start(cj: Stored<CronJob>, scheduled: number, status: ActiveStatus, jobs: Stored<Job>[]): Promise<void> {
    const { client, events } = this.#ctx;
    const jobsInfo = client.typed('jobs');
    const ns = cj.metadata.namespace;
    const policy = cj.spec?.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && status.active.length > 0) {
      events.event(
        cj,
        'Normal',
        'JobAlreadyActive',
        'Not starting job because prior execution is running and concurrency policy is Forbid',
      );
      return;
    }
    if (policy === 'Replace') {
      for (const ref of status.active) {
        await client.delete(jobsInfo, ns, ref.name!, { propagationPolicy: 'Background' }).catch(ignoreNotFound);
        events.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${ref.name}`);
      }
      status.active = [];
    }
    const name = `${cj.metadata.name}-${Math.floor(scheduled / 60_000)}`;
    const template = cj.spec?.jobTemplate ?? {};
    const scheduledText = timestamp(scheduled);
    let job: Stored<Job>;
    try {
      job = await client.create(jobsInfo, ns, {
        metadata: {
          name,
          labels: { ...(template.metadata?.labels ?? {}) },
          annotations: {
            ...(template.metadata?.annotations ?? {}),
            'batch.kubernetes.io/cronjob-scheduled-timestamp': scheduledText,
          },
          ownerReferences: [ownerReference(cj)],
        },
        spec: structuredClone(template.spec),
      });
      events.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${name}`);
    } catch (error) {
      if (!isStatusError(error, 409)) {
        events.event(cj, 'Warning', 'FailedCreate', `Error creating job: ${(error as Error).message}`);
        throw error;
      }
      job = jobs.find((j) => j.metadata.name === name) ?? (await client.get(jobsInfo, ns, name));
    }
    if (!status.active.some((ref) => ref.uid === job.metadata.uid) && !finishedCondition(job)) {
      status.active.push({
        kind: 'Job',
        namespace: ns,
        name: job.metadata.name,
        uid: job.metadata.uid,
        apiVersion: 'batch/v1',
        resourceVersion: job.metadata.resourceVersion,
      });
    }
    status.lastScheduleTime = scheduledText;
  }

  /** #cleanHistory deletes the oldest finished Jobs beyond successfulJobsHistoryLimit and failedJobsHistoryLimit. */
  async #cleanHistory(cj: Stored<CronJob>, jobs: Stored<Job>[]): Promise<void> {
    const { client, events } = this.#ctx;
    const limits: [string, number | undefined][] = [
      ['Complete', cj.spec?.successfulJobsHistoryLimit],
      ['Failed', cj.spec?.failedJobsHistoryLimit],
    ];
    for (const [type, limit] of limits) {
      if (limit === undefined || limit === null) continue;
      const finished = jobs
        .filter((j) => finishedCondition(j)?.type === type && !j.metadata.deletionTimestamp)
        .sort(
          (a, b) =>
            Date.parse(a.status?.startTime ?? a.metadata.creationTimestamp) -
            Date.parse(b.status?.startTime ?? b.metadata.creationTimestamp),
        );
      for (const job of finished.slice(0, Math.max(0, finished.length - limit))) {
        await client
          .delete(client.typed('jobs'), job.metadata.namespace, job.metadata.name, {
            propagationPolicy: 'Background',
          })
          .catch(ignoreNotFound);
        events.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
      }
    }
  }
}
