import type { ControllerRevision, DaemonSet } from 'kubernetes-types/apps/v1.js';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type {
  LimitRange,
  PodSpec,
  ReplicationController,
  ResourceQuota,
  Secret,
  ServiceAccount,
} from 'kubernetes-types/core/v1.js';
import type { Ingress, IngressClass, IngressRule } from 'kubernetes-types/networking/v1.js';
import { formatLabels } from '../../api/labels.ts';
import { AGE, type Column, NAME, age, humanDuration, type Printers, selectorText } from './columns.ts';

function containerCells(spec: PodSpec | undefined): [string, string] {
  const containers = spec?.containers ?? [];
  return [containers.map((c) => c.name).join(','), containers.map((c) => c.image).join(',')];
}

function hasCondition(job: Job, type: string): boolean {
  return (job.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');
}

/** jobStatus is the STATUS column of `kubectl get jobs` (1.30+ servers). */
function jobStatus(job: Job): string {
  if (hasCondition(job, 'Complete')) return 'Complete';
  if (hasCondition(job, 'Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (hasCondition(job, 'Suspended')) return 'Suspended';
  if (hasCondition(job, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  if (hasCondition(job, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

/**
 * ingressHosts is upstream's formatHosts: the first three hosts, then `+ N more...` counting every rule after the
 * third (rules without a host too) once three hosts are listed and another rule follows.
 */
export function ingressHosts(rules: IngressRule[]): string {
  const list: string[] = [];
  let more = false;
  for (const rule of rules) {
    if (list.length === 3) more = true;
    if (!more && rule.host) list.push(rule.host);
  }
  if (list.length === 0) return '*';
  return more ? `${list.join(',')} + ${rules.length - 3} more...` : list.join(',');
}

/**
 * WORKLOAD_PRINTERS are upstream's server-side Table columns for Secrets, ServiceAccounts, ReplicationControllers,
 * DaemonSets, ControllerRevisions, Jobs, CronJobs, ResourceQuotas, LimitRanges, Ingresses and IngressClasses.
 */
export const WORKLOAD_PRINTERS: Printers<WorkloadPrinted> = build();

interface WorkloadPrinted {
  secrets: Secret;
  serviceaccounts: ServiceAccount;
  replicationcontrollers: ReplicationController;
  daemonsets: DaemonSet;
  controllerrevisions: ControllerRevision;
  jobs: Job;
  cronjobs: CronJob;
  resourcequotas: ResourceQuota;
  limitranges: LimitRange;
  ingresses: Ingress;
  ingressclasses: IngressClass;
}

function build(): Printers<WorkloadPrinted> {
  const CONTAINERS: Column = ['Containers', 'string', 1, 'Names of each container in the template.'];
  const IMAGES: Column = ['Images', 'string', 1, 'Images referenced by each container in the template.'];
  return {
    secrets: {
      columns: [
        NAME,
        ['Type', 'string', 0, 'Used to facilitate programmatic handling of secret data.'],
        ['Data', 'string', 0, 'Data contains the secret data.'],
        AGE,
      ],
      row: (s, now) => [s.metadata.name, s.type ?? 'Opaque', Object.keys(s.data ?? {}).length, age(s, now)],
    },
    serviceaccounts: {
      columns: [
        NAME,
        [
          'Secrets',
          'string',
          0,
          'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use.',
        ],
        AGE,
      ],
      row: (sa, now) => [sa.metadata.name, (sa.secrets ?? []).length, age(sa, now)],
    },
    replicationcontrollers: {
      columns: [
        NAME,
        ['Desired', 'integer', 0, 'Replicas is the number of desired replicas.'],
        ['Current', 'integer', 0, 'Replicas is the most recently observed number of replicas.'],
        ['Ready', 'integer', 0, 'The number of ready replicas for this replication controller.'],
        AGE,
        CONTAINERS,
        IMAGES,
        ['Selector', 'string', 1, 'Selector is a label query over pods that should match the Replicas count.'],
      ],
      row(rc, now) {
        const [names, images] = containerCells(rc.spec?.template?.spec);
        return [
          rc.metadata.name,
          rc.spec?.replicas ?? 0,
          rc.status?.replicas ?? 0,
          rc.status?.readyReplicas ?? 0,
          age(rc, now),
          names,
          images,
          formatLabels(rc.spec?.selector) || '<none>',
        ];
      },
    },
    daemonsets: {
      columns: [
        NAME,
        ['Desired', 'integer', 0, 'The total number of nodes that should be running the daemon pod.'],
        [
          'Current',
          'integer',
          0,
          'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.',
        ],
        [
          'Ready',
          'integer',
          0,
          'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.',
        ],
        ['Up-to-date', 'integer', 0, 'The total number of nodes that are running updated daemon pod'],
        [
          'Available',
          'integer',
          0,
          'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)',
        ],
        ['Node Selector', 'string', 0, 'NodeSelector is a selector which must be true for the pod to fit on a node.'],
        AGE,
        CONTAINERS,
        IMAGES,
        ['Selector', 'string', 1, 'A label query over pods that are managed by the daemon set.'],
      ],
      row(ds, now) {
        const s = ds.status;
        const [names, images] = containerCells(ds.spec?.template?.spec);
        return [
          ds.metadata.name,
          s?.desiredNumberScheduled ?? 0,
          s?.currentNumberScheduled ?? 0,
          s?.numberReady ?? 0,
          s?.updatedNumberScheduled ?? 0,
          s?.numberAvailable ?? 0,
          formatLabels(ds.spec?.template?.spec?.nodeSelector) || '<none>',
          age(ds, now),
          names,
          images,
          selectorText(ds.spec?.selector),
        ];
      },
    },
    controllerrevisions: {
      columns: [
        NAME,
        ['Controller', 'string', 0, 'Controller of the object'],
        ['Revision', 'integer', 0, 'Revision indicates the revision of the state represented by Data.'],
        AGE,
      ],
      row(cr, now) {
        const owner = (cr.metadata.ownerReferences ?? []).find((r) => r.controller);
        // Upstream's GroupKind: `kind.group`, or the kind alone for the core group (apiVersion `v1`).
        const group = owner?.apiVersion.includes('/') ? owner.apiVersion.split('/')[0] : '';
        const controller = owner ? `${owner.kind.toLowerCase()}${group ? `.${group}` : ''}/${owner.name}` : '<none>';
        return [cr.metadata.name, controller, cr.revision ?? 0, age(cr, now)];
      },
    },
    jobs: {
      columns: [
        NAME,
        ['Status', 'string', 0, 'Status of the job.'],
        ['Completions', 'string', 0, 'The number of pods which reached phase Succeeded.'],
        ['Duration', 'string', 0, 'Time required to complete the job.'],
        AGE,
        CONTAINERS,
        IMAGES,
        ['Selector', 'string', 1, 'A label query over pods that should match the pod count.'],
      ],
      row(job, now) {
        const succeeded = job.status?.succeeded ?? 0;
        const parallelism = job.spec?.parallelism ?? 0;
        const completions =
          job.spec?.completions !== undefined && job.spec?.completions !== null
            ? `${succeeded}/${job.spec.completions}`
            : parallelism > 1
              ? `${succeeded}/1 of ${parallelism}`
              : `${succeeded}/1`;
        const start = Date.parse(job.status?.startTime ?? '');
        const end = Date.parse(job.status?.completionTime ?? '');
        const duration = Number.isNaN(start) ? '' : humanDuration((Number.isNaN(end) ? now : end) - start);
        const [names, images] = containerCells(job.spec?.template?.spec);
        return [
          job.metadata.name,
          jobStatus(job),
          completions,
          duration,
          age(job, now),
          names,
          images,
          selectorText(job.spec?.selector),
        ];
      },
    },
    cronjobs: {
      columns: [
        NAME,
        ['Schedule', 'string', 0, 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'],
        [
          'Timezone',
          'string',
          0,
          'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.',
        ],
        [
          'Suspend',
          'boolean',
          0,
          'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.',
        ],
        ['Active', 'integer', 0, 'A list of pointers to currently running jobs.'],
        ['Last Schedule', 'string', 0, 'Information when was the last time the job was successfully scheduled.'],
        AGE,
        CONTAINERS,
        IMAGES,
        ['Selector', 'string', 1, 'A label query over pods that should match the pod count.'],
      ],
      row(cj, now) {
        const last = Date.parse(cj.status?.lastScheduleTime ?? '');
        const [names, images] = containerCells(cj.spec?.jobTemplate?.spec?.template?.spec);
        return [
          cj.metadata.name,
          cj.spec?.schedule ?? '',
          cj.spec?.timeZone ?? '<none>',
          cj.spec?.suspend === undefined || cj.spec?.suspend === null ? '<unset>' : cj.spec.suspend ? 'True' : 'False',
          (cj.status?.active ?? []).length,
          Number.isNaN(last) ? '<none>' : humanDuration(now - last),
          age(cj, now),
          names,
          images,
          selectorText(cj.spec?.jobTemplate?.spec?.selector),
        ];
      },
    },
    resourcequotas: {
      columns: [
        NAME,
        AGE,
        ['Request', 'string', 0, 'Request represents a minimum amount of cpu/memory that a container may consume.'],
        [
          'Limit',
          'string',
          0,
          'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.',
        ],
      ],
      row(q, now) {
        const hard: Record<string, string> = q.status?.hard ?? q.spec?.hard ?? {};
        const used: Record<string, string> = q.status?.used ?? {};
        const requests: string[] = [];
        const limits: string[] = [];
        for (const key of Object.keys(hard).sort()) {
          const text = `${key}: ${used[key] ?? '0'}/${hard[key]}`;
          if (key.startsWith('limits.')) limits.push(text);
          else requests.push(text);
        }
        return [q.metadata.name, age(q, now), requests.join(', '), limits.join(', ')];
      },
    },
    limitranges: {
      columns: [
        NAME,
        [
          'Created At',
          'date',
          0,
          'CreationTimestamp is a timestamp representing the server time when this object was created.',
        ],
      ],
      row: (lr) => [lr.metadata.name, lr.metadata.creationTimestamp],
    },
    ingresses: {
      columns: [
        NAME,
        [
          'Class',
          'string',
          0,
          'The name of the IngressClass resource that should be used for additional configuration',
        ],
        ['Hosts', 'string', 0, 'Hosts that incoming requests are matched against before the ingress rule'],
        ['Address', 'string', 0, 'Address is a list containing ingress points for the load-balancer'],
        ['Ports', 'string', 0, 'Ports of TLS configurations that open'],
        AGE,
      ],
      row(ing, now) {
        const shown = ingressHosts(ing.spec?.rules ?? []);
        const address = [
          ...new Set((ing.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname).filter(Boolean)),
        ]
          .sort()
          .join(',');
        return [
          ing.metadata.name,
          ing.spec?.ingressClassName ?? '<none>',
          shown,
          address,
          (ing.spec?.tls ?? []).length ? '80, 443' : '80',
          age(ing, now),
        ];
      },
    },
    ingressclasses: {
      columns: [
        NAME,
        ['Controller', 'string', 0, 'Controller that is responsible for handling this class'],
        ['Parameters', 'string', 0, 'A reference to a resource with additional parameters'],
        AGE,
      ],
      row(ic, now) {
        const p = ic.spec?.parameters;
        return [
          ic.metadata.name,
          ic.spec?.controller ?? '',
          p ? `${p.kind}${p.apiGroup ? `.${p.apiGroup}` : ''}/${p.name}` : '<none>',
          age(ic, now),
        ];
      },
    },
  };
}
