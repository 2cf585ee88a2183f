import type { EndpointAddress, EndpointSubset, Pod, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointPort } from 'kubernetes-types/discovery/v1.js';
import { matches, selectorFromMap } from '../api/labels.ts';

/**
 * The pure part of the endpoint controllers: which pods back a Service, on which ports, as the EndpointSlices and
 * the Endpoints object upstream's controllers would write for them.
 */
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MAX_ENDPOINTS_PER_SLICE = 100;

interface Backend {
  pod: Pod;
  /** The pod's IP (backends are the pods that have one). */
  ip: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  ports: { name?: string; port: number; protocol: string }[];
}

/** backends lists the pods selected by a Service with an IP, and each one's resolved target ports. */
export function backends(service: Service, pods: readonly Pod[]): Backend[] {
  const selector = selectorFromMap(service.spec?.selector);
  const out: Backend[] = [];
  for (const pod of pods) {
    if (pod.metadata?.namespace !== service.metadata?.namespace || !matches(selector, pod.metadata?.labels)) continue;
    const ip = pod.status?.podIP;
    if (!ip || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
    const ports: Backend['ports'] = [];
    for (const sp of service.spec?.ports ?? []) {
      const port = resolveTargetPort(sp, pod);
      if (port !== undefined)
        ports.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP' });
    }
    const readyCondition = (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
    const terminating = pod.metadata?.deletionTimestamp !== undefined;
    out.push({ pod, ip, ready: readyCondition && !terminating, serving: readyCondition, terminating, ports });
  }
  return out.sort((a, b) => (a.ip < b.ip ? -1 : 1));
}

/** resolveTargetPort gives a named targetPort's number from the pod's container ports. */
function resolveTargetPort(servicePort: ServicePort, pod: Pod): number | undefined {
  const target = servicePort.targetPort ?? servicePort.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(String(target))) return Number(target);
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? [])
      if (p.name === target && (p.protocol ?? 'TCP') === (servicePort.protocol ?? 'TCP')) return p.containerPort;
  }
  return undefined;
}

/** SliceBody is what a managed EndpointSlice holds besides its metadata and addressType. */
export interface SliceBody {
  ports: EndpointPort[];
  endpoints: Endpoint[];
}

/** desiredSlices groups backends by port mapping into slices of at most 100 endpoints (bodies without names). */
export function desiredSlices(service: Service, list: Backend[]): SliceBody[] {
  const groups = new Map<string, SliceBody>();
  for (const b of list) {
    const key = JSON.stringify(b.ports);
    // Slice ports always carry a name ("" when unnamed) as upstream writes them; kubectl 1.33's describe needs it.
    if (!groups.has(key))
      groups.set(key, {
        ports: b.ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol })),
        endpoints: [],
      });
    groups.get(key)!.endpoints.push({
      addresses: [b.ip],
      conditions: { ready: b.ready, serving: b.serving, terminating: b.terminating },
      ...dnsHostname(service, b.pod),
      ...(b.pod.spec?.nodeName ? { nodeName: b.pod.spec.nodeName } : {}),
      targetRef: podRef(b.pod),
    });
  }
  const slices: SliceBody[] = [];
  for (const g of [...groups.values()].sort((a, b) => (JSON.stringify(a.ports) < JSON.stringify(b.ports) ? -1 : 1))) {
    for (let i = 0; i < g.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE)
      slices.push({ ports: g.ports, endpoints: g.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE) });
  }
  // A selector that matches nothing still gets one empty slice, as upstream's placeholder.
  if (slices.length === 0) slices.push({ ports: [], endpoints: [] });
  return slices;
}

/** dnsHostname names an endpoint for DNS when its pod sets hostname and, as subdomain, this Service (upstream rule). */
function dnsHostname(service: Service, pod: Pod): { hostname?: string } {
  const hostname = pod.spec?.hostname;
  return hostname &&
    pod.spec?.subdomain === service.metadata?.name &&
    pod.metadata?.namespace === service.metadata?.namespace
    ? { hostname }
    : {};
}

/** desiredSubsets is the Endpoints object's subsets: ready and not-ready addresses per port mapping. */
export function desiredSubsets(list: Backend[]): EndpointSubset[] {
  const groups = new Map<
    string,
    { ports: Backend['ports']; addresses: EndpointAddress[]; notReadyAddresses: EndpointAddress[] }
  >();
  for (const b of list) {
    if (b.ports.length === 0 || b.terminating) continue;
    const key = JSON.stringify(b.ports);
    if (!groups.has(key)) groups.set(key, { ports: b.ports, addresses: [], notReadyAddresses: [] });
    const address = {
      ip: b.ip,
      ...(b.pod.spec?.nodeName ? { nodeName: b.pod.spec.nodeName } : {}),
      targetRef: podRef(b.pod),
    };
    (b.ready ? groups.get(key)!.addresses : groups.get(key)!.notReadyAddresses).push(address);
  }
  return [...groups.values()].map((g) => ({
    ...(g.addresses.length ? { addresses: g.addresses } : {}),
    ...(g.notReadyAddresses.length ? { notReadyAddresses: g.notReadyAddresses } : {}),
    ports: g.ports,
  }));
}

/** podRef is an endpoint's targetRef to its pod. */
function podRef(pod: Pod): { kind: string; namespace?: string; name?: string; uid?: string } {
  return { kind: 'Pod', namespace: pod.metadata?.namespace, name: pod.metadata?.name, uid: pod.metadata?.uid };
}

/** SliceMeta is what the slice helpers read of an EndpointSlice. */
interface SliceMeta {
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
}

/** managedSlices are a Service's slices written by one controller (managedBy), in name order. */
export function managedSlices<S extends SliceMeta>(
  slices: readonly S[],
  namespace: string,
  service: string,
  managedBy: string,
): S[] {
  return slices
    .filter(
      (s) =>
        s.metadata.namespace === namespace &&
        s.metadata.labels?.[SERVICE_NAME_LABEL] === service &&
        s.metadata.labels?.[MANAGED_BY_LABEL] === managedBy,
    )
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
}

/** managedSliceKey is the `namespace/service` key of a slice written by managedBy, or undefined for other slices. */
export function managedSliceKey(slice: SliceMeta, managedBy: string): string | undefined {
  const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  return service && slice.metadata.labels?.[MANAGED_BY_LABEL] === managedBy
    ? `${slice.metadata.namespace}/${service}`
    : undefined;
}
