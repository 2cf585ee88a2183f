import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointPort } from 'kubernetes-types/discovery/v1.js';

/**
 * The pure part of the EndpointSlice mirroring controller (upstream pkg/controller/endpointslicemirroring): which
 * Endpoints objects are mirrored, and the EndpointSlices that stand for one.
 */
export const MIRRORING_MANAGED_BY = 'endpointslicemirroring-controller.k8s.io';
/** Upstream mirrors at most 1000 addresses per Endpoints subset. */
export const MAX_MIRRORED_PER_SUBSET = 1000;
const MAX_ENDPOINTS_PER_SLICE = 100;

/**
 * shouldMirror: custom Endpoints of a Service without a selector, unless labelled
 * `endpointslice.kubernetes.io/skip-mirror: "true"` (as the API server's own `kubernetes` Endpoints are).
 */
export function shouldMirror(endpoints: Endpoints, service: Service | undefined): boolean {
  if (!service || service.spec?.selector || service.spec?.type === 'ExternalName') return false;
  return endpoints.metadata?.labels?.['endpointslice.kubernetes.io/skip-mirror'] !== 'true';
}

/** mirroredLabels are the Endpoints' labels plus the service name and managed-by labels of a mirrored slice. */
export function mirroredLabels(endpoints: Endpoints & { metadata: { name: string } }): Record<string, string> {
  const labels: Record<string, string> = { ...(endpoints.metadata.labels ?? {}) };
  delete labels['endpointslice.kubernetes.io/skip-mirror'];
  labels['kubernetes.io/service-name'] = endpoints.metadata.name;
  labels['endpointslice.kubernetes.io/managed-by'] = MIRRORING_MANAGED_BY;
  return labels;
}

/** mirroredAnnotations drop what describes the Endpoints object itself rather than its contents. */
export function mirroredAnnotations(endpoints: Endpoints): Record<string, string> | undefined {
  const annotations: Record<string, string> = { ...(endpoints.metadata?.annotations ?? {}) };
  delete annotations['endpoints.kubernetes.io/last-change-trigger-time'];
  delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
  return Object.keys(annotations).length ? annotations : undefined;
}

export interface MirroredSlice {
  addressType: 'IPv4' | 'IPv6';
  ports: EndpointPort[];
  endpoints: Endpoint[];
}

/**
 * mirroredSlices turns subsets into slice bodies: subsets with the same ports are merged, addresses are Ready and
 * notReadyAddresses not, grouped by address family, at most 100 endpoints a slice, sorted for stable output.
 */
export function mirroredSlices(endpoints: Endpoints): MirroredSlice[] {
  const groups = new Map<string, MirroredSlice>();
  for (const subset of endpoints.subsets ?? []) {
    const ports = (subset.ports ?? []).map((p) => ({
      name: p.name ?? '',
      port: p.port,
      protocol: p.protocol ?? 'TCP',
      ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
    }));
    const addresses = [
      ...(subset.addresses ?? []).map((a) => [a, true] as const),
      ...(subset.notReadyAddresses ?? []).map((a) => [a, false] as const),
    ].slice(0, MAX_MIRRORED_PER_SUBSET);
    for (const [address, ready] of addresses) {
      const addressType = String(address.ip).includes(':') ? 'IPv6' : 'IPv4';
      const key = `${addressType} ${JSON.stringify(ports)}`;
      if (!groups.has(key)) groups.set(key, { addressType, ports, endpoints: [] });
      const group = groups.get(key)!;
      if (group.endpoints.some((e) => e.addresses[0] === address.ip)) continue;
      group.endpoints.push({
        addresses: [address.ip],
        conditions: { ready },
        ...(address.hostname ? { hostname: address.hostname } : {}),
        ...(address.nodeName ? { nodeName: address.nodeName } : {}),
        ...(address.targetRef ? { targetRef: address.targetRef } : {}),
      });
    }
  }
  const out: MirroredSlice[] = [];
  for (const key of [...groups.keys()].sort()) {
    const g = groups.get(key)!;
    for (let i = 0; i < g.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE)
      out.push({ ...g, endpoints: g.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE) });
  }
  return out;
}
