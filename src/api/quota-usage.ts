import type { KubeObject } from './objects.ts';
import { parseCpu, parseMemory } from './quantity.ts';

/**
 * Quota usage as upstream's ResourceQuota evaluators count it: object counts (`pods`, `services`, `configmaps`,
 * `secrets`, `replicationcontrollers`, `resourcequotas`, `persistentvolumeclaims`, `services.nodeports`,
 * `services.loadbalancers`, and `count/<resource>[.<group>]` for any kind) and the compute resources of pods that
 * have not finished (`requests.cpu` = `cpu`, `requests.memory` = `memory`, `limits.cpu`, `limits.memory`).
 * Values are numbers: counts, CPU in millicores, memory in bytes.
 */
const LEGACY_COUNTS = [
  'pods',
  'services',
  'configmaps',
  'secrets',
  'replicationcontrollers',
  'resourcequotas',
  'persistentvolumeclaims',
];

/** Resources is a container's requests and limits, as a Pod's spec holds them. */
interface Resources {
  requests?: { cpu?: string | number; memory?: string | number };
  limits?: { cpu?: string | number; memory?: string | number };
}

/** Counted is what usageOf reads of an object: a Service's type and ports, a Pod's phase and containers' resources. */
export interface Counted extends KubeObject {
  spec?: { type?: string; ports?: readonly unknown[]; containers?: readonly { resources?: Resources }[] };
  /** Any kind's status (object: so a ServiceStatus fits too), of which a Pod's phase is read. */
  status?: object & { phase?: string };
}

/** usageOf is what one object of a resource adds to each quota resource name it counts for. */
export function usageOf(resource: string, group: string, object: Counted): Record<string, number> {
  const usage: Record<string, number> = { [group === '' ? `count/${resource}` : `count/${resource}.${group}`]: 1 };
  if (group === '' && LEGACY_COUNTS.includes(resource)) usage[resource] = 1;
  if (group === '' && resource === 'services') {
    const type = object.spec?.type;
    if (type === 'NodePort' || type === 'LoadBalancer') usage['services.nodeports'] = (object.spec?.ports ?? []).length;
    if (type === 'LoadBalancer') usage['services.loadbalancers'] = 1;
  }
  if (group === '' && resource === 'pods') {
    if (object.status?.phase === 'Succeeded' || object.status?.phase === 'Failed') return {};
    let reqCpu = 0;
    let reqMem = 0;
    let limCpu = 0;
    let limMem = 0;
    for (const c of object.spec?.containers ?? []) {
      reqCpu += parseCpu(c.resources?.requests?.cpu ?? c.resources?.limits?.cpu ?? 0);
      reqMem += parseMemory(c.resources?.requests?.memory ?? c.resources?.limits?.memory ?? 0);
      limCpu += parseCpu(c.resources?.limits?.cpu ?? 0);
      limMem += parseMemory(c.resources?.limits?.memory ?? 0);
    }
    Object.assign(usage, {
      'requests.cpu': reqCpu,
      cpu: reqCpu,
      'requests.memory': reqMem,
      memory: reqMem,
      'limits.cpu': limCpu,
      'limits.memory': limMem,
    });
  }
  return usage;
}

/** parseQuota reads a quota value of a resource name (CPU in millicores, memory in bytes, counts as is). */
export function parseQuota(name: string, value: string | number): number {
  if (name === 'cpu' || name.endsWith('.cpu')) return parseCpu(value);
  if (name === 'memory' || name.endsWith('.memory')) return parseMemory(value);
  return Number(value);
}

/** formatQuota writes a value the way the API returns quantities (`500m`, `2`, `128Mi`, `3`). */
export function formatQuota(name: string, value: number): string {
  if (name === 'cpu' || name.endsWith('.cpu'))
    return value % 1000 === 0 ? String(value / 1000) : `${Math.round(value)}m`;
  if (name === 'memory' || name.endsWith('.memory')) {
    for (const [suffix, size] of [
      ['Gi', 2 ** 30],
      ['Mi', 2 ** 20],
      ['Ki', 2 ** 10],
    ] as const)
      if (value >= size && value % size === 0) return `${value / size}${suffix}`;
    return String(Math.round(value));
  }
  return String(value);
}
