import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type {
  ConfigMap,
  EndpointPort,
  Endpoints,
  Event,
  Namespace,
  Node,
  Pod,
  Service,
  ServiceSpec,
} from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
// ServiceCIDR and IPAddress have the same shape in v1alpha1 (the newest kubernetes-types has) as in the served version.
import type { IPAddress, ServiceCIDR } from 'kubernetes-types/networking/v1alpha1.js';
import { formatLabels } from '../../api/labels.ts';
import type { KubeObject, Stored } from '../../api/objects.ts';
import { AGE, type Column, NAME, age, humanDuration, type Printer, type Printers, selectorText } from './columns.ts';
import { WORKLOAD_PRINTERS } from './workload-printers.ts';

/**
 * printTable renders objects as the server-side Table kubectl prints, with upstream's columns per resource
 * (priority 1 columns show only with -o wide) and upstream's cell formats (`<none>`, `2000/TCP`, ages).
 */
export interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

interface CorePrinted {
  servicecidrs: ServiceCIDR;
  ipaddresses: IPAddress;
  pods: Pod;
  services: Service;
  endpoints: Endpoints;
  deployments: Deployment;
  replicasets: ReplicaSet;
  namespaces: Namespace;
  nodes: Node;
  events: Event;
  configmaps: ConfigMap;
  endpointslices: EndpointSlice;
  leases: Lease;
}

const PRINTERS: Printers<CorePrinted> = {
  servicecidrs: {
    columns: [
      NAME,
      [
        'CIDRs',
        'string',
        0,
        'spec.cidrs defines the IP blocks in CIDR notation from which Service cluster IPs are allocated.',
      ],
      AGE,
    ],
    row: (o, now) => [o.metadata.name, (o.spec?.cidrs ?? []).join(','), age(o, now)],
  },
  ipaddresses: {
    columns: [NAME, ['ParentRef', 'string', 0, 'ParentRef references the resource that an IPAddress is attached to.']],
    row(o) {
      const ref = o.spec?.parentRef;
      if (!ref) return [o.metadata.name, '<none>'];
      const gr = ref.group ? `${ref.resource}.${ref.group}` : ref.resource;
      return [o.metadata.name, `${String(gr).toLowerCase()}${ref.namespace ? `/${ref.namespace}` : ''}/${ref.name}`];
    },
  },
  pods: {
    columns: [
      NAME,
      ['Ready', 'string', 0, 'The aggregate readiness state of this pod for accepting traffic.'],
      ['Status', 'string', 0, 'The aggregate status of the containers in this pod.'],
      [
        'Restarts',
        'string',
        0,
        'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
      ],
      AGE,
      [
        'IP',
        'string',
        1,
        'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
      ],
      ['Node', 'string', 1, 'NodeName is a request to schedule this pod onto a specific node.'],
      ['Nominated Node', 'string', 1, 'nominatedNodeName is set only when this pod preempts other pods on the node.'],
      ['Readiness Gates', 'string', 1, 'If specified, all readiness gates will be evaluated for pod readiness.'],
    ],
    row(pod, now) {
      const statuses = pod.status?.containerStatuses ?? [];
      const total = pod.spec?.containers?.length ?? 0;
      const ready = statuses.filter((s) => s.ready).length;
      let restarts = 0;
      let lastRestart = 0;
      for (const s of statuses) {
        restarts += s.restartCount ?? 0;
        const finished = Date.parse(s.lastState?.terminated?.finishedAt ?? '');
        if (!Number.isNaN(finished)) lastRestart = Math.max(lastRestart, finished);
      }
      const restartText =
        restarts > 0 && lastRestart > 0 ? `${restarts} (${humanDuration(now - lastRestart)} ago)` : String(restarts);
      const readinessGates = pod.spec?.readinessGates ?? [];
      const gates = readinessGates.length
        ? `${(pod.status?.conditions ?? []).filter((c) => readinessGates.some((g) => g.conditionType === c.type) && c.status === 'True').length}/${readinessGates.length}`
        : '<none>';
      return [
        pod.metadata.name,
        `${ready}/${total}`,
        podStatus(pod),
        restartText,
        age(pod, now),
        pod.status?.podIP || '<none>',
        pod.spec?.nodeName || '<none>',
        pod.status?.nominatedNodeName || '<none>',
        gates,
      ];
    },
  },
  services: {
    columns: [
      NAME,
      ['Type', 'string', 0, 'type determines how the Service is exposed.'],
      ['Cluster-IP', 'string', 0, 'clusterIP is the IP address of the service and is usually assigned randomly.'],
      [
        'External-IP',
        'string',
        0,
        'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.',
      ],
      ['Port(s)', 'string', 0, 'The list of ports that are exposed by this service.'],
      AGE,
      ['Selector', 'string', 1, 'Route service traffic to pods with label keys and values matching this selector.'],
    ],
    row(svc, now) {
      const spec: ServiceSpec = svc.spec ?? {};
      const ports = (spec.ports ?? [])
        .map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p.port}/${p.protocol}`))
        .join(',');
      return [
        svc.metadata.name,
        spec.type,
        spec.type === 'ExternalName' ? '<none>' : spec.clusterIP || '<none>',
        externalIp(svc),
        ports || '<none>',
        age(svc, now),
        spec.selector && Object.keys(spec.selector).length ? formatLabels(spec.selector) : '<none>',
      ];
    },
  },
  endpoints: {
    columns: [NAME, ['Endpoints', 'string', 0, 'Endpoints of the service'], AGE],
    row(ep, now) {
      const list: string[] = [];
      for (const subset of ep.subsets ?? []) {
        const ports: (EndpointPort | undefined)[] = subset.ports?.length ? subset.ports : [undefined];
        for (const a of subset.addresses ?? []) for (const p of ports) list.push(p ? `${a.ip}:${p.port}` : a.ip);
      }
      return [ep.metadata.name, truncatedList(list), age(ep, now)];
    },
  },
  deployments: {
    columns: [
      NAME,
      ['Ready', 'string', 0, 'Number of the pod with ready state'],
      [
        'Up-to-date',
        'string',
        0,
        'Total number of non-terminated pods targeted by this deployment that have the desired template spec.',
      ],
      [
        'Available',
        'string',
        0,
        'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.',
      ],
      AGE,
      ['Containers', 'string', 1, 'Names of each container in the template.'],
      ['Images', 'string', 1, 'Images referenced by each container in the template.'],
      [
        'Selector',
        'string',
        1,
        'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.',
      ],
    ],
    row(d, now) {
      const s = d.status;
      const containers = d.spec?.template?.spec?.containers ?? [];
      return [
        d.metadata.name,
        `${s?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`,
        s?.updatedReplicas ?? 0,
        s?.availableReplicas ?? 0,
        age(d, now),
        containers.map((c) => c.name).join(','),
        containers.map((c) => c.image).join(','),
        selectorText(d.spec?.selector),
      ];
    },
  },
  replicasets: {
    columns: [
      NAME,
      ['Desired', 'integer', 0, 'Replicas is the number of desired replicas.'],
      ['Current', 'integer', 0, 'Replicas is the most recently observed number of replicas.'],
      ['Ready', 'integer', 0, 'The number of ready replicas for this replica set.'],
      AGE,
      ['Containers', 'string', 1, 'Names of each container in the template.'],
      ['Images', 'string', 1, 'Images referenced by each container in the template.'],
      ['Selector', 'string', 1, 'Selector is a label query over pods that should match the replica count.'],
    ],
    row(rs, now) {
      const containers = rs.spec?.template?.spec?.containers ?? [];
      return [
        rs.metadata.name,
        rs.spec?.replicas ?? 0,
        rs.status?.replicas ?? 0,
        rs.status?.readyReplicas ?? 0,
        age(rs, now),
        containers.map((c) => c.name).join(','),
        containers.map((c) => c.image).join(','),
        selectorText(rs.spec?.selector),
      ];
    },
  },
  namespaces: {
    columns: [NAME, ['Status', 'string', 0, 'The status of the namespace'], AGE],
    row: (ns, now) => [ns.metadata.name, ns.status?.phase ?? 'Active', age(ns, now)],
  },
  nodes: {
    columns: [
      NAME,
      ['Status', 'string', 0, 'The status of the node'],
      ['Roles', 'string', 0, 'The roles of the node'],
      AGE,
      ['Version', 'string', 0, 'Kubelet Version reported by the node.'],
      ['Internal-IP', 'string', 1, 'List of internal IPs.'],
      ['External-IP', 'string', 1, 'List of external IPs.'],
      [
        'OS-Image',
        'string',
        1,
        'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
      ],
      ['Kernel-Version', 'string', 1, 'Kernel Version reported by the node from uname -r (e.g. 3.16.0-0.bpo.4-amd64).'],
      [
        'Container-Runtime',
        'string',
        1,
        'Container Runtime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
      ],
    ],
    row(node, now) {
      const ready = (node.status?.conditions ?? []).find((c) => c.type === 'Ready');
      const states = [
        ready ? (ready.status === 'True' ? 'Ready' : ready.status === 'False' ? 'NotReady' : 'Unknown') : 'Unknown',
      ];
      if (node.spec?.unschedulable) states.push('SchedulingDisabled');
      const roles = Object.keys(node.metadata?.labels ?? {})
        .filter((k) => k.startsWith('node-role.kubernetes.io/'))
        .map((k) => k.slice('node-role.kubernetes.io/'.length))
        .sort();
      const address = (type: string) =>
        (node.status?.addresses ?? []).find((a) => a.type === type)?.address ?? '<none>';
      const info = node.status?.nodeInfo;
      return [
        node.metadata.name,
        states.join(','),
        roles.length ? roles.join(',') : '<none>',
        age(node, now),
        info?.kubeletVersion ?? '',
        address('InternalIP'),
        address('ExternalIP'),
        info?.osImage ?? '<unknown>',
        info?.kernelVersion ?? '<unknown>',
        info?.containerRuntimeVersion ?? '<unknown>',
      ];
    },
  },
  events: {
    columns: [
      ['Last Seen', 'string', 0, 'Time when last event from the group was observed'],
      ['Type', 'string', 0, 'Type of this event (Normal, Warning), new types could be added in the future.'],
      [
        'Reason',
        'string',
        0,
        "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
      ],
      ['Object', 'string', 0, 'The object that this event is about.'],
      ['Subobject', 'string', 1, 'The subobject that this event is about.'],
      ['Source', 'string', 1, 'The component reporting this event.'],
      ['Message', 'string', 0, 'A human-readable description of the status of this operation.'],
      ['First Seen', 'string', 1, 'The first time at which the event was observed'],
      ['Count', 'string', 1, 'The number of times this event has occurred.'],
      NAME,
    ],
    row(ev, now) {
      const last = Date.parse(ev.lastTimestamp ?? ev.eventTime ?? ev.metadata?.creationTimestamp ?? '');
      const first = Date.parse(ev.firstTimestamp ?? ev.eventTime ?? ev.metadata?.creationTimestamp ?? '');
      const obj = ev.involvedObject ?? {};
      return [
        Number.isNaN(last) ? '<unknown>' : humanDuration(now - last),
        ev.type ?? '',
        ev.reason ?? '',
        `${String(obj.kind ?? '').toLowerCase()}/${obj.name ?? ''}`,
        obj.fieldPath ?? '',
        ev.source?.component ? [ev.source.component, ev.source.host].filter(Boolean).join(', ') : '',
        ev.message ?? '',
        Number.isNaN(first) ? '<unknown>' : humanDuration(now - first),
        String(ev.count ?? 1),
        ev.metadata.name,
      ];
    },
  },
  configmaps: {
    columns: [NAME, ['Data', 'integer', 0, 'Data contains the configuration data.'], AGE],
    row: (cm, now) => [
      cm.metadata.name,
      Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length,
      age(cm, now),
    ],
  },
  endpointslices: {
    columns: [
      NAME,
      ['AddressType', 'string', 0, 'addressType specifies the type of address carried by this EndpointSlice.'],
      ['Ports', 'string', 0, 'ports specifies the list of network ports exposed by each endpoint in this slice.'],
      ['Endpoints', 'string', 0, 'endpoints is a list of unique endpoints in this slice.'],
      AGE,
    ],
    row(slice, now) {
      const ports = (slice.ports ?? []).map((p) => String(p.port ?? '')).filter(Boolean);
      const addresses = (slice.endpoints ?? []).flatMap((e) => e.addresses ?? []);
      return [
        slice.metadata.name,
        slice.addressType,
        ports.length ? ports.join(',') : '<unset>',
        addresses.length ? truncatedList(addresses) : '<unset>',
        age(slice, now),
      ];
    },
  },
  leases: {
    columns: [NAME, ['Holder', 'string', 0, 'The holder of the lease.'], AGE],
    row: (lease, now) => [lease.metadata.name, lease.spec?.holderIdentity ?? '', age(lease, now)],
  },
};

/** printTable renders a Table's columns and rows; rows get their `object` from the caller. */
export function printTable(
  resource: string,
  objects: Stored<KubeObject>[],
  now: Date,
): { columnDefinitions: ColumnDefinition[]; rows: { cells: unknown[] }[] } {
  const printer = printerFor(resource);
  const columnDefinitions = printer.columns.map(([name, type, priority, description]) => ({
    name,
    type,
    format: name === 'Name' ? 'name' : '',
    description,
    priority,
  }));
  const t = now.getTime();
  return { columnDefinitions, rows: objects.map((o) => ({ cells: printer.row(o, t) })) };
}

const DEFAULT_PRINTER: Printer = { columns: [NAME, AGE], row: (o, n) => [o.metadata.name, age(o, n)] };

/**
 * printerFor is the one place a typed printer meets objects of any kind: printTable is handed only the objects of
 * `resource` (the registry lists one resource at a time), so the printer keyed by it reads them as its own type.
 */
function printerFor(resource: string): Printer {
  return Object.hasOwn(ALL_PRINTERS, resource) ? ALL_PRINTERS[resource] : DEFAULT_PRINTER;
}

const ALL_PRINTERS: Record<string, Printer> = { ...PRINTERS, ...WORKLOAD_PRINTERS };

/** podStatus is kubectl's STATUS column: the reason of the most telling container state, or the phase. */
function podStatus(pod: Pod): string {
  let reason: string = pod.status?.reason || pod.status?.phase || 'Unknown';
  const init = pod.status?.initContainerStatuses ?? [];
  for (const [i, s] of init.entries()) {
    if (s.state?.terminated?.exitCode === 0) continue;
    if (s.state?.terminated)
      reason = s.state.terminated.reason
        ? `Init:${s.state.terminated.reason}`
        : `Init:ExitCode:${s.state.terminated.exitCode}`;
    else if (s.state?.waiting?.reason && s.state.waiting.reason !== 'PodInitializing')
      reason = `Init:${s.state.waiting.reason}`;
    else reason = `Init:${i}/${pod.spec?.initContainers?.length ?? init.length}`;
    return deleting(pod, reason);
  }
  let hasRunning = false;
  for (const s of [...(pod.status?.containerStatuses ?? [])].reverse()) {
    if (s.state?.waiting?.reason) reason = s.state.waiting.reason;
    else if (s.state?.terminated?.reason) reason = s.state.terminated.reason;
    else if (s.state?.terminated)
      reason = s.state.terminated.signal
        ? `Signal:${s.state.terminated.signal}`
        : `ExitCode:${s.state.terminated.exitCode}`;
    else if (s.ready && s.state?.running) hasRunning = true;
  }
  if (reason === 'Completed' && hasRunning) {
    const ready = (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
    reason = ready ? 'Running' : 'NotReady';
  }
  return deleting(pod, reason);
}

function deleting(pod: Pod, reason: string): string {
  if (!pod.metadata?.deletionTimestamp) return reason;
  return pod.status?.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
}

function externalIp(svc: Service): string {
  const spec: ServiceSpec = svc.spec ?? {};
  const external = spec.externalIPs ?? [];
  switch (spec.type) {
    case 'ClusterIP':
    case 'NodePort':
      return external.length ? external.join(',') : '<none>';
    case 'LoadBalancer': {
      const ingress = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname).filter(Boolean);
      const all = [...ingress, ...external];
      return all.length ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '<none>';
    default:
      return '<unknown>';
  }
}

function truncatedList(list: string[]): string {
  if (list.length === 0) return '<none>';
  return list.length > 3 ? `${list.slice(0, 3).join(',')} + ${list.length - 3} more...` : list.join(',');
}
