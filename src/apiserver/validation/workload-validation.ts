import type { DaemonSet, DaemonSetSpec } from 'kubernetes-types/apps/v1.js';
import type { CronJob, CronJobSpec, JobSpec, Job } from 'kubernetes-types/batch/v1.js';
import type { PodSpec, ReplicationController, ReplicationControllerSpec, Secret } from 'kubernetes-types/core/v1.js';
import { parseCron, validTimeZone } from '../../api/cron.ts';
import type { KubeObject } from '../../api/objects.ts';
import type { StatusCause } from '../../api/status.ts';
import { type Decoded, type PerKind, handlerFor, isOneOf } from '../per-kind.ts';
import { Causes, labels, podSpec } from './validation.ts';

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const SECRET_MAX_BYTES = 1024 * 1024;

/**
 * validateMore checks the kinds beyond the original set (ReplicationController, DaemonSet, Job, CronJob, Secret,
 * ServiceAccount needs nothing more) with upstream's rules and messages.
 */
export function validateMore(kind: string, object: KubeObject, old?: KubeObject): StatusCause[] {
  const errs = new Causes();
  handlerFor(VALIDATORS, kind)?.(object, old)(errs);
  return errs.list;
}

interface ValidatedKinds {
  ReplicationController: Decoded<ReplicationController>;
  DaemonSet: Decoded<DaemonSet>;
  Job: Decoded<Job>;
  CronJob: Decoded<CronJob>;
  Secret: Decoded<Secret>;
}

const VALIDATORS: PerKind<ValidatedKinds, (errs: Causes) => void> = {
  ReplicationController: (rc) => (errs) => replicationController(errs, rc),
  DaemonSet: (ds, old) => (errs) => selectorAndTemplate(errs, 'spec', ds.spec, old?.spec, ['Always']),
  Job: (job, old) => (errs) => {
    jobSpec(errs, 'spec', job.spec);
    if (old && JSON.stringify(old.spec?.selector) !== JSON.stringify(job.spec?.selector))
      errs.invalid('spec.selector', job.spec?.selector, 'field is immutable');
  },
  CronJob: (cj) => (errs) => cronJob(errs, cj),
  Secret: (s, old) => (errs) => secret(errs, s, old),
};

function restartPolicy(errs: Causes, field: string, spec: Decoded<PodSpec> | undefined, allowed: string[]): void {
  if (spec && !isOneOf(allowed, spec.restartPolicy))
    errs.unsupported(`${field}.restartPolicy`, spec.restartPolicy, allowed);
}

/** selectorAndTemplate: a label selector that selects the template's labels, and a valid pod template. */
function selectorAndTemplate(
  errs: Causes,
  field: string,
  spec: Decoded<DaemonSetSpec | JobSpec> | undefined,
  oldSpec: Decoded<DaemonSetSpec> | undefined,
  policies: string[],
): void {
  const selector = spec?.selector;
  if (!selector || (!Object.keys(selector.matchLabels ?? {}).length && !(selector.matchExpressions ?? []).length)) {
    errs.required(`${field}.selector`);
  } else {
    const templateLabels = spec?.template?.metadata?.labels ?? {};
    if (!Object.entries(selector.matchLabels ?? {}).every(([k, v]) => templateLabels[k] === v)) {
      errs.invalid(`${field}.template.metadata.labels`, templateLabels, '`selector` does not match template `labels`');
    }
    if (oldSpec && JSON.stringify(oldSpec.selector) !== JSON.stringify(selector))
      errs.invalid(`${field}.selector`, selector, 'field is immutable');
  }
  labels(errs, `${field}.template.metadata.labels`, spec?.template?.metadata?.labels);
  podSpec(errs, `${field}.template.spec`, spec?.template?.spec);
  restartPolicy(errs, `${field}.template.spec`, spec?.template?.spec, policies);
}

function replicationController(errs: Causes, rc: Decoded<ReplicationController>): void {
  const spec: Decoded<ReplicationControllerSpec> = rc.spec ?? {};
  if (typeof spec.replicas === 'number' && spec.replicas < 0)
    errs.invalid('spec.replicas', spec.replicas, 'must be greater than or equal to 0');
  const selector = spec.selector ?? {};
  if (Object.keys(selector).length === 0) errs.required('spec.selector');
  labels(errs, 'spec.selector', selector);
  if (!spec.template) {
    errs.required('spec.template');
    return;
  }
  const templateLabels = spec.template.metadata?.labels ?? {};
  if (Object.keys(selector).length && !Object.entries(selector).every(([k, v]) => templateLabels[k] === v)) {
    errs.invalid('spec.template.metadata.labels', templateLabels, '`selector` does not match template `labels`');
  }
  podSpec(errs, 'spec.template.spec', spec.template.spec);
  restartPolicy(errs, 'spec.template.spec', spec.template.spec, ['Always']);
}

function jobSpec(errs: Causes, field: string, spec: Decoded<JobSpec> | undefined): void {
  for (const name of [
    'parallelism',
    'completions',
    'backoffLimit',
    'activeDeadlineSeconds',
    'ttlSecondsAfterFinished',
  ] as const) {
    const v = spec?.[name];
    if (typeof v === 'number' && v < 0) errs.invalid(`${field}.${name}`, v, 'must be greater than or equal to 0');
  }
  if (spec?.manualSelector === true) selectorAndTemplate(errs, field, spec, undefined, ['OnFailure', 'Never']);
  else if (spec?.selector !== undefined) {
    labels(errs, `${field}.template.metadata.labels`, spec.template?.metadata?.labels);
    podSpec(errs, `${field}.template.spec`, spec.template?.spec);
    restartPolicy(errs, `${field}.template.spec`, spec.template?.spec, ['OnFailure', 'Never']);
  } else {
    podSpec(errs, `${field}.template.spec`, spec?.template?.spec);
    restartPolicy(errs, `${field}.template.spec`, spec?.template?.spec, ['OnFailure', 'Never']);
  }
}

function cronJob(errs: Causes, cj: Decoded<CronJob>): void {
  const name = cj.metadata?.name ?? '';
  if (name.length > 52) errs.invalid('metadata.name', name, 'must be no more than 52 characters');
  const spec: Decoded<CronJobSpec> = cj.spec ?? {};
  if (!spec.schedule) errs.required('spec.schedule');
  else {
    try {
      parseCron(spec.schedule);
    } catch (error) {
      errs.invalid('spec.schedule', spec.schedule, (error as Error).message);
    }
  }
  if (spec.timeZone !== undefined && spec.timeZone !== null && !validTimeZone(spec.timeZone))
    errs.invalid('spec.timeZone', spec.timeZone, `unknown time zone ${spec.timeZone}`);
  const policies = ['Allow', 'Forbid', 'Replace'];
  if (!isOneOf(policies, spec.concurrencyPolicy))
    errs.unsupported('spec.concurrencyPolicy', spec.concurrencyPolicy, policies);
  if (typeof spec.startingDeadlineSeconds === 'number' && spec.startingDeadlineSeconds < 0)
    errs.invalid('spec.startingDeadlineSeconds', spec.startingDeadlineSeconds, 'must be greater than or equal to 0');
  jobSpec(errs, 'spec.jobTemplate.spec', spec.jobTemplate?.spec);
}

const SECRET_KEYS: Record<string, string[]> = {
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
};

function secret(errs: Causes, s: Decoded<Secret>, old: Decoded<Secret> | undefined): void {
  const data: Record<string, unknown> = s.data ?? {};
  let total = 0;
  for (const [key, value] of Object.entries(data)) {
    if (!CONFIG_KEY.test(key)) {
      errs.invalid(
        `data[${key}]`,
        key,
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
      );
    }
    if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value))
      errs.invalid(`data[${key}]`, '<secret contents redacted>', 'must be base64-encoded');
    else total += Buffer.from(value, 'base64').length;
  }
  if (total > SECRET_MAX_BYTES)
    errs.list.push({
      reason: 'FieldValueTooLong',
      message: `Too long: may not be more than ${SECRET_MAX_BYTES} bytes`,
      field: 'data',
    });
  const type = s.type ?? '';
  // Own keys only: a Secret of type `constructor` or `toString` is just a Secret of an unknown type.
  for (const key of Object.hasOwn(SECRET_KEYS, type) ? SECRET_KEYS[type] : [])
    if (!(key in data)) errs.required(`data[${key}]`);
  if (type === 'kubernetes.io/dockerconfigjson' && typeof data['.dockerconfigjson'] === 'string') {
    try {
      JSON.parse(Buffer.from(data['.dockerconfigjson'] as string, 'base64').toString('utf8'));
    } catch (error) {
      errs.invalid('data[.dockerconfigjson]', '<secret contents redacted>', (error as Error).message);
    }
  }
  if (type === 'kubernetes.io/basic-auth' && !('username' in data) && !('password' in data))
    errs.required('data[username]');
  if (
    type === 'kubernetes.io/service-account-token' &&
    !s.metadata?.annotations?.['kubernetes.io/service-account.name']
  ) {
    errs.required('metadata.annotations[kubernetes.io/service-account.name]');
  }
  if (old) {
    if (old.type !== s.type) errs.invalid('type', s.type, 'field is immutable');
    if (old.immutable === true) {
      if (s.immutable !== true) errs.invalid('immutable', s.immutable, 'field is immutable when `immutable` is set');
      if (JSON.stringify(old.data ?? {}) !== JSON.stringify(data))
        errs.list.push({
          reason: 'FieldValueForbidden',
          message: 'Forbidden: field is immutable when `immutable` is set',
          field: 'data',
        });
    }
  }
}
