import { matches, selectorFromMap } from '../api/labels.ts';

/**
 * The pure part of the endpoint controllers: which pods back a Service, on which ports, as the EndpointSlices and
 * the Endpoints object upstream's controllers would write for them.
 */
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
export const MAX_ENDPOINTS_PER_SLICE = 100;

interface Backend {
  pod: any;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  ports: { name?: string; port: number; protocol: string }[];
}

/** backends lists the pods selected by a Service with an IP, and each one's resolved target ports. */
export function backends(service: any, pods: readonly any[]): Backend[] {
  const selector = selectorFromMap(service.spec?.selector);
  const out: Backend[] = [];
  for (const pod of pods) {
    if (pod.metadata.namespace !== service.metadata.namespace || !matches(selector, pod.metadata.labels)) continue;
    if (!pod.status?.podIP || pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed') continue;
    const ports: Backend['ports'] = [];
    for (const sp of service.spec?.ports ?? []) {
      const port = resolveTargetPort(sp, pod);
      if (port !== undefined)
        ports.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP' });
    }
    const readyCondition = (pod.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
    const terminating = pod.metadata.deletionTimestamp !== undefined;
    out.push({ pod, ready: readyCondition && !terminating, serving: readyCondition, terminating, ports });
  }
  return out.sort((a, b) => (a.pod.status.podIP < b.pod.status.podIP ? -1 : 1));
}

/** resolveTargetPort gives a named targetPort's number from the pod's container ports. */
function resolveTargetPort(servicePort: any, pod: any): number | undefined {
  const target = servicePort.targetPort ?? servicePort.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(String(target))) return Number(target);
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? [])
      if (p.name === target && (p.protocol ?? 'TCP') === (servicePort.protocol ?? 'TCP')) return p.containerPort;
  }
  return undefined;
}

/** desiredSlices groups backends by port mapping into slices of at most 100 endpoints (bodies without names). */
export function desiredSlices(service: any, list: Backend[]): { ports: any[]; endpoints: any[] }[] {
  const groups = new Map<string, { ports: any[]; endpoints: any[] }>();
  for (const b of list) {
    const key = JSON.stringify(b.ports);
    // Slice ports always carry a name ("" when unnamed) as upstream writes them; kubectl 1.33's describe needs it.
    if (!groups.has(key))
      groups.set(key, {
        ports: b.ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol })),
        endpoints: [],
      });
    groups.get(key)!.endpoints.push({
      addresses: [b.pod.status.podIP],
      conditions: { ready: b.ready, serving: b.serving, terminating: b.terminating },
      ...dnsHostname(service, b.pod),
      ...(b.pod.spec?.nodeName ? { nodeName: b.pod.spec.nodeName } : {}),
      targetRef: {
        kind: 'Pod',
        namespace: b.pod.metadata.namespace,
        name: b.pod.metadata.name,
        uid: b.pod.metadata.uid,
      },
    });
  }
  const slices: { ports: any[]; endpoints: any[] }[] = [];
  for (const g of [...groups.values()].sort((a, b) => (JSON.stringify(a.ports) < JSON.stringify(b.ports) ? -1 : 1))) {
    for (let i = 0; i < g.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE)
      slices.push({ ports: g.ports, endpoints: g.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE) });
  }
  // A selector that matches nothing still gets one empty slice, as upstream's placeholder.
  if (slices.length === 0) slices.push({ ports: [], endpoints: [] });
  return slices;
}

/** dnsHostname names an endpoint for DNS when its pod sets hostname and, as subdomain, this Service (upstream rule). */
function dnsHostname(service: any, pod: any): { hostname?: string } {
  const hostname = pod.spec?.hostname;
  return hostname &&
    pod.spec?.subdomain === service.metadata?.name &&
    pod.metadata?.namespace === service.metadata?.namespace
    ? { hostname }
    : {};
}

/** desiredSubsets is the Endpoints object's subsets: ready and not-ready addresses per port mapping. */
export function desiredSubsets(list: Backend[]): any[] {
  const groups = new Map<string, { ports: any[]; addresses: any[]; notReadyAddresses: any[] }>();
  for (const b of list) {
    if (b.ports.length === 0 || b.terminating) continue;
    const key = JSON.stringify(b.ports);
    if (!groups.has(key)) groups.set(key, { ports: b.ports, addresses: [], notReadyAddresses: [] });
    const address = {
      ip: b.pod.status.podIP,
      ...(b.pod.spec?.nodeName ? { nodeName: b.pod.spec.nodeName } : {}),
      targetRef: {
        kind: 'Pod',
        namespace: b.pod.metadata.namespace,
        name: b.pod.metadata.name,
        uid: b.pod.metadata.uid,
      },
    };
    (b.ready ? groups.get(key)!.addresses : groups.get(key)!.notReadyAddresses).push(address);
  }
  return [...groups.values()].map((g) => ({
    ...(g.addresses.length ? { addresses: g.addresses } : {}),
    ...(g.notReadyAddresses.length ? { notReadyAddresses: g.notReadyAddresses } : {}),
    ports: g.ports,
  }));
}
