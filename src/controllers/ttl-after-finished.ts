import type { Job } from 'kubernetes-types/batch/v1.js';
import { ignoreNotFound, ignoreStatus } from '../client/client.ts';
import { WorkQueue } from './work-queue.ts';
import { keyOf, type ControllerContext } from './context.ts';
import { finishedCondition } from './job-controller.ts';

/**
 * TtlAfterFinishedController deletes a finished Job (Complete or Failed) once `spec.ttlSecondsAfterFinished` has
 * passed since it finished, with its pods (Foreground, as upstream), after checking the live Job again in case its
 * TTL was changed.
 */
export class TtlAfterFinishedController {
  #ctx: ControllerContext;
  #queue: WorkQueue;

  constructor(ctx: ControllerContext) {
    this.#ctx = ctx;
    this.#queue = new WorkQueue((key) => this.#sync(key), {
      onError: (key, error) => ctx.logger.error('Error cleaning up finished job', { job: key, error }),
    });
    const changed = (job: Job) => {
      if (job.spec?.ttlSecondsAfterFinished !== undefined && finishedCondition(job)) this.#queue.add(keyOf(job));
    };
    ctx.informers.jobs.addHandlers({ onAdd: changed, onUpdate: (_o, j) => changed(j) });
  }

  async #sync(key: string): Promise<void> {
    await this.#ctx.synced;
    const { client, informers, logger } = this.#ctx;
    const cached = informers.jobs.get(key);
    if (!cached || cached.metadata.deletionTimestamp) return;
    const remaining = expiresInMs(cached);
    if (remaining === undefined) return;
    if (remaining > 0) return this.#queue.addAfter(key, remaining);
    const [ns, name] = key.split('/') as [string, string];
    const jobs = client.typed('jobs');
    const live = await client.get(jobs, ns, name).catch(ignoreNotFound);
    if (!live || expiresInMs(live) === undefined || expiresInMs(live)! > 0) return;
    logger.v(2).info('Cleaning up Job', { job: key });
    await client
      .delete(jobs, ns, name, { propagationPolicy: 'Foreground', preconditions: { uid: live.metadata.uid } })
      .catch(ignoreStatus(404, 409));
  }
}

/** expiresInMs is how long until a finished Job's TTL runs out (≤ 0: now), or undefined when it has none. */
function expiresInMs(job: Job): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  const finished = finishedCondition(job);
  if (ttl === undefined || ttl === null || !finished) return undefined;
  const at = Date.parse(job.status?.completionTime ?? finished.lastTransitionTime ?? '');
  if (Number.isNaN(at)) return undefined;
  return at + ttl * 1000 - Date.now();
}
