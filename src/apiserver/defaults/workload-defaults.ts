import type { DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { CronJob, Job, JobSpec } from 'kubernetes-types/batch/v1.js';
import type { PodTemplateSpec, ReplicationController, Secret } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/objects.ts';
import { displayValue, setOwn } from '../../api/own-properties.ts';
import { type Decoded, type PerKind, handlerFor } from '../per-kind.ts';
import { defaultPodSpec } from './defaults.ts';

interface DefaultedKinds {
  ReplicationController: Decoded<ReplicationController>;
  DaemonSet: Decoded<DaemonSet>;
  Job: Decoded<Job>;
  CronJob: Decoded<CronJob>;
  Secret: Decoded<Secret>;
}

const DEFAULTERS: PerKind<DefaultedKinds, void> = {
  ReplicationController: defaultReplicationController,
  DaemonSet: defaultDaemonSet,
  Job: defaultJob,
  CronJob: defaultCronJob,
  Secret: defaultSecret,
};

/**
 * Upstream's defaulting for the workload kinds beyond Deployments and ReplicaSets (ReplicationController, DaemonSet,
 * Job, CronJob) and for Secrets (whose `stringData` is write-only: it is merged into `data` on every write).
 */
export function applyMoreDefaults(kind: string, object: KubeObject): void {
  handlerFor(DEFAULTERS, kind)?.(object, undefined);
}

function defaultTemplate(template: Decoded<PodTemplateSpec>): void {
  template.spec ??= {};
  defaultPodSpec(template.spec);
}

function defaultReplicationController(rc: Decoded<ReplicationController>): void {
  const spec = (rc.spec ??= {});
  const labels = spec.template?.metadata?.labels;
  if (labels) {
    if (!spec.selector || Object.keys(spec.selector).length === 0) spec.selector = { ...labels };
    const meta = (rc.metadata ??= {});
    if (!meta.labels || Object.keys(meta.labels).length === 0) meta.labels = { ...labels };
  }
  spec.replicas ??= 1;
  if (spec.template) defaultTemplate(spec.template);
}

function defaultDaemonSet(ds: Decoded<DaemonSet>): void {
  const spec = (ds.spec ??= {});
  spec.updateStrategy ??= {};
  spec.updateStrategy.type ??= 'RollingUpdate';
  if (spec.updateStrategy.type === 'RollingUpdate') {
    spec.updateStrategy.rollingUpdate ??= {};
    spec.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
    spec.updateStrategy.rollingUpdate.maxSurge ??= 0;
  }
  spec.revisionHistoryLimit ??= 10;
  spec.template ??= {};
  defaultTemplate(spec.template);
}

/** defaultJobSpec is SetDefaults_Job's spec part (also used for a CronJob's jobTemplate). */
function defaultJobSpec(spec: Decoded<JobSpec>): void {
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= spec.backoffLimitPerIndex !== undefined ? 2147483647 : 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  spec.template ??= {};
  defaultTemplate(spec.template);
}

function defaultJob(job: Decoded<Job>): void {
  const spec = (job.spec ??= {});
  defaultJobSpec(spec);
  const labels = spec.template?.metadata?.labels;
  const meta = (job.metadata ??= {});
  if (labels && (!meta.labels || Object.keys(meta.labels).length === 0)) meta.labels = { ...labels };
}

function defaultCronJob(cj: Decoded<CronJob>): void {
  const spec = (cj.spec ??= {});
  spec.concurrencyPolicy ??= 'Allow';
  spec.suspend ??= false;
  spec.successfulJobsHistoryLimit ??= 3;
  spec.failedJobsHistoryLimit ??= 1;
  spec.jobTemplate ??= {};
  spec.jobTemplate.spec ??= {};
  defaultJobSpec(spec.jobTemplate.spec);
}

function defaultSecret(secret: Decoded<Secret>): void {
  secret.type ||= 'Opaque';
  if (secret.stringData && typeof secret.stringData === 'object') {
    secret.data = { ...(secret.data ?? {}) };
    for (const [k, v] of Object.entries(secret.stringData))
      setOwn(secret.data, k, Buffer.from(typeof v === 'string' ? v : displayValue(v), 'utf8').toString('base64'));
  }
  delete secret.stringData;
}

/**
 * prepareJobForCreate generates a Job's selector and pod labels from its uid, as upstream's job strategy does
 * unless `spec.manualSelector` is true. The registry calls it for a new Job, after setting its name and uid.
 */
export function prepareJobForCreate(object: KubeObject): void {
  handlerFor(PREPARE_FOR_CREATE, 'Job')?.(object, undefined);
}

const PREPARE_FOR_CREATE: PerKind<{ Job: Decoded<Job> }, void> = { Job: prepareJob };

function prepareJob(job: Decoded<Job>): void {
  job.status = {};
  const spec = (job.spec ??= {});
  if (spec.manualSelector === true) return;
  const uid = job.metadata?.uid ?? '';
  const name = job.metadata?.name ?? '';
  spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
  spec.template ??= {};
  spec.template.metadata ??= {};
  spec.template.metadata.labels = {
    ...(spec.template.metadata.labels ?? {}),
    'batch.kubernetes.io/controller-uid': uid,
    'batch.kubernetes.io/job-name': name,
    'controller-uid': uid,
    'job-name': name,
  };
}
