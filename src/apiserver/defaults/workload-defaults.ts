import { displayValue, setOwn } from '../../api/own-properties.ts';
import { defaultPodSpec } from './defaults.ts';

/**
 * Upstream's defaulting for the workload kinds beyond Deployments and ReplicaSets (ReplicationController, DaemonSet,
 * Job, CronJob) and for Secrets (whose `stringData` is write-only: it is merged into `data` on every write).
 */
export function applyMoreDefaults(kind: string, object: any): void {
  switch (kind) {
    case 'ReplicationController':
      return defaultReplicationController(object);
    case 'DaemonSet':
      return defaultDaemonSet(object);
    case 'Job':
      return defaultJob(object);
    case 'CronJob':
      return defaultCronJob(object);
    case 'Secret':
      return defaultSecret(object);
  }
}

function defaultTemplate(template: any): void {
  template.spec ??= {};
  defaultPodSpec(template.spec);
}

function defaultReplicationController(rc: any): void {
  const spec = (rc.spec ??= {});
  const labels = spec.template?.metadata?.labels;
  if (labels) {
    if (!spec.selector || Object.keys(spec.selector).length === 0) spec.selector = { ...labels };
    if (!rc.metadata.labels || Object.keys(rc.metadata.labels).length === 0) rc.metadata.labels = { ...labels };
  }
  spec.replicas ??= 1;
  if (spec.template) defaultTemplate(spec.template);
}

function defaultDaemonSet(ds: any): void {
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
function defaultJobSpec(spec: any): void {
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

function defaultJob(job: any): void {
  const spec = (job.spec ??= {});
  defaultJobSpec(spec);
  const labels = spec.template?.metadata?.labels;
  if (labels && (!job.metadata.labels || Object.keys(job.metadata.labels).length === 0))
    job.metadata.labels = { ...labels };
}

function defaultCronJob(cj: any): void {
  const spec = (cj.spec ??= {});
  spec.concurrencyPolicy ??= 'Allow';
  spec.suspend ??= false;
  spec.successfulJobsHistoryLimit ??= 3;
  spec.failedJobsHistoryLimit ??= 1;
  spec.jobTemplate ??= {};
  spec.jobTemplate.spec ??= {};
  defaultJobSpec(spec.jobTemplate.spec);
}

function defaultSecret(secret: any): void {
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
 * unless `spec.manualSelector` is true.
 */
export function prepareJobForCreate(job: any): void {
  job.status = {};
  const spec = (job.spec ??= {});
  if (spec.manualSelector === true) return;
  const uid = job.metadata.uid;
  const name = job.metadata.name;
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
