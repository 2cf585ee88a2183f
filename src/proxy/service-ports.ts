import type { Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';

/**
 * The proxy's model: every (Service, port) pair kube-proxy programs, with the endpoints that serve it, built from
 * Services and EndpointSlices the way upstream's service and endpoint change trackers do, and categorized once
 * (`plan`) for every consumer (both renderers, the UDP conntrack clearing, the health check servers). Pure.
 */
export interface Endpoint {
  ip: string;
  port: number;
  /** `ip:port`, as upstream keys endpoints. */
  address: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  isLocal: boolean;
}

/** ServicePortSpec is a service port as the Service and its EndpointSlices describe it. */
export interface ServicePortSpec {
  /** `ns/name:port` or `ns/name` when the port has no name (upstream ServicePortName.String()). */
  name: string;
  namespace: string;
  serviceName: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  port: number;
  clusterIP: string;
  nodePort: number;
  externalIPs: string[];
  loadBalancerIPs: string[];
  loadBalancerSourceRanges: string[];
  sessionAffinityTimeout: number | undefined;
  externalPolicyLocal: boolean;
  internalPolicyLocal: boolean;
  healthCheckNodePort: number;
  /** Every endpoint of this port, sorted by address; categorize() picks the ones used. */
  endpoints: Endpoint[];
}

/** ServicePort is a service port with its plan: which endpoints each kind of traffic uses, computed once. */
export interface ServicePort extends ServicePortSpec {
  /** planServicePort(this), computed when the model is built (derived: not part of the model's digest). */
  readonly plan: ServicePortPlan;
}

const PROXY_NAME_LABEL = 'service.kubernetes.io/service-proxy-name';
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** buildServicePorts turns Services and EndpointSlices into the sorted list of service ports to program. */
export function buildServicePorts(input: {
  services: readonly Service[];
  endpointSlices: readonly EndpointSlice[];
  nodeName: string;
}): ServicePort[] {
  const slicesByService = new Map<string, EndpointSlice[]>();
  for (const slice of input.endpointSlices) {
    const svc = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!svc || slice.addressType !== 'IPv4') continue;
    const key = `${slice.metadata?.namespace}/${svc}`;
    if (!slicesByService.has(key)) slicesByService.set(key, []);
    slicesByService.get(key)!.push(slice);
  }
  const out: ServicePort[] = [];
  for (const svc of input.services) {
    const spec = svc.spec ?? {};
    if (svc.metadata?.labels?.[PROXY_NAME_LABEL] !== undefined) continue;
    if (spec.type === 'ExternalName' || !spec.clusterIP || spec.clusterIP === 'None') continue;
    const ns = svc.metadata?.namespace ?? '';
    const svcName = svc.metadata?.name ?? '';
    const slices = slicesByService.get(`${ns}/${svcName}`) ?? [];
    for (const p of spec.ports ?? []) {
      const protocol = (p.protocol ?? 'TCP') as ServicePort['protocol'];
      const name = p.name ? `${ns}/${svcName}:${p.name}` : `${ns}/${svcName}`;
      const model: ServicePortSpec = {
        name,
        namespace: ns,
        serviceName: svcName,
        protocol,
        port: p.port,
        clusterIP: spec.clusterIP,
        nodePort: spec.type === 'NodePort' || spec.type === 'LoadBalancer' ? (p.nodePort ?? 0) : 0,
        externalIPs: [...(spec.externalIPs ?? [])].map(canonicalIp).filter(isIPv4),
        loadBalancerIPs:
          spec.type === 'LoadBalancer'
            ? (svc.status?.loadBalancer?.ingress ?? [])
                .filter((i) => i.ip && i.ipMode !== 'Proxy')
                .map((i) => canonicalIp(i.ip!))
                .filter(isIPv4)
            : [],
        loadBalancerSourceRanges:
          spec.type === 'LoadBalancer'
            ? (spec.loadBalancerSourceRanges ?? []).map((r) => canonicalCidr(r.trim())).filter((r) => r !== '')
            : [],
        sessionAffinityTimeout:
          spec.sessionAffinity === 'ClientIP'
            ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800)
            : undefined,
        externalPolicyLocal:
          (spec.type === 'NodePort' || spec.type === 'LoadBalancer' || (spec.externalIPs ?? []).length > 0) &&
          spec.externalTrafficPolicy === 'Local',
        internalPolicyLocal: spec.internalTrafficPolicy === 'Local',
        healthCheckNodePort:
          spec.externalTrafficPolicy === 'Local' && spec.type === 'LoadBalancer' ? (spec.healthCheckNodePort ?? 0) : 0,
        endpoints: endpointsFor(slices, p.name ?? '', protocol, input.nodeName),
      };
      out.push({ ...model, plan: planServicePort(model) });
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.protocol < b.protocol ? -1 : 1));
}

function endpointsFor(
  slices: readonly EndpointSlice[],
  portName: string,
  protocol: string,
  nodeName: string,
): Endpoint[] {
  const byAddress = new Map<string, Endpoint>();
  for (const slice of slices) {
    const port = (slice.ports ?? []).find((sp) => (sp.name ?? '') === portName && (sp.protocol ?? 'TCP') === protocol);
    if (!port || typeof port.port !== 'number') continue;
    for (const e of slice.endpoints ?? []) {
      const ip = e.addresses?.[0];
      if (!ip) continue;
      const c = e.conditions ?? {};
      const ready = c.ready !== false;
      const endpoint: Endpoint = {
        ip,
        port: port.port,
        address: `${ip}:${port.port}`,
        ready,
        serving: c.serving ?? ready,
        terminating: c.terminating ?? false,
        isLocal: e.nodeName !== undefined && e.nodeName === nodeName,
      };
      if (!byAddress.has(endpoint.address)) byAddress.set(endpoint.address, endpoint);
    }
  }
  return [...byAddress.values()].sort((a, b) => compareAddress(a.address, b.address));
}

/**
 * categorize is upstream's CategorizeEndpoints: the endpoints cluster-policy traffic uses (ready ones, or serving
 * terminating ones when none is ready), those local-policy traffic uses, and whether any can serve at all.
 */
export function categorize(sp: ServicePortSpec): Categorized {
  const usable = (list: Endpoint[]) => {
    const ready = list.filter((e) => e.ready);
    return ready.length > 0 ? ready : list.filter((e) => e.serving && e.terminating);
  };
  const clusterEndpoints = usesClusterEndpoints(sp) ? usable(sp.endpoints) : [];
  const localEndpoints = usesLocalEndpoints(sp) ? usable(sp.endpoints.filter((e) => e.isLocal)) : [];
  const all = new Map<string, Endpoint>();
  for (const e of [...clusterEndpoints, ...localEndpoints]) all.set(e.address, e);
  const hasAnyEndpoints =
    clusterEndpoints.length > 0 ||
    (usesLocalEndpoints(sp) && sp.endpoints.some((e) => e.ready || (e.serving && e.terminating)));
  return {
    clusterEndpoints,
    localEndpoints,
    allReachable: [...all.values()].sort((a, b) => compareAddress(a.address, b.address)),
    hasAnyEndpoints,
  };
}

/** Categorized is what categorize() finds for one service port. */
export interface Categorized {
  /** Endpoints for Cluster traffic policy. */
  clusterEndpoints: Endpoint[];
  /** Endpoints for Local traffic policy (this node's). */
  localEndpoints: Endpoint[];
  /** Both lists merged: the endpoints this node may DNAT to. */
  allReachable: Endpoint[];
  /** Whether any endpoint anywhere can serve (decides REJECT "has no endpoints" over DROP "has no local endpoints"). */
  hasAnyEndpoints: boolean;
}

/**
 * ServicePortPlan is what both backends derive from one service port: its endpoints by policy and which kinds of
 * traffic have somewhere to go (upstream's syncProxyRules variables of the same names).
 */
export interface ServicePortPlan extends Categorized {
  /** ClusterIP traffic has endpoints (Local internal policy: local ones). */
  hasInternalEndpoints: boolean;
  /** External traffic (NodePort, external IPs, LB IPs) has endpoints (Local external policy: local ones). */
  hasExternalEndpoints: boolean;
  /** The external chain is written: externally accessible and any endpoint anywhere (for the short-circuit rules). */
  usesExternalChain: boolean;
  /** loadBalancerSourceRanges apply: LB IPs, ranges, and endpoints. */
  usesFirewall: boolean;
}

/** planServicePort categorizes a service port once for every backend (buildServicePorts stores it as `plan`). */
export function planServicePort(sp: ServicePortSpec): ServicePortPlan {
  const c = categorize(sp);
  const hasInternalEndpoints = sp.internalPolicyLocal ? c.localEndpoints.length > 0 : c.hasAnyEndpoints;
  const hasExternalEndpoints = sp.externalPolicyLocal ? c.localEndpoints.length > 0 : c.hasAnyEndpoints;
  const usesExternalChain = c.hasAnyEndpoints && externallyAccessible(sp);
  const usesFirewall = usesExternalChain && sp.loadBalancerIPs.length > 0 && sp.loadBalancerSourceRanges.length > 0;
  return { ...c, hasInternalEndpoints, hasExternalEndpoints, usesExternalChain, usesFirewall };
}

/** externallyAccessible: reachable from outside through a NodePort, an external IP or a load-balancer IP. */
export function externallyAccessible(sp: ServicePortSpec): boolean {
  return sp.nodePort !== 0 || sp.externalIPs.length > 0 || sp.loadBalancerIPs.length > 0;
}

function usesClusterEndpoints(sp: ServicePortSpec): boolean {
  return !sp.internalPolicyLocal || (externallyAccessible(sp) && !sp.externalPolicyLocal);
}

function usesLocalEndpoints(sp: ServicePortSpec): boolean {
  return sp.internalPolicyLocal || (externallyAccessible(sp) && sp.externalPolicyLocal);
}

function compareAddress(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isIPv4(ip: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(ip);
}

/** canonicalIp drops leading zeros (`172.30.0.041` → `172.30.0.41`), as upstream does for "bad IPs". */
function canonicalIp(ip: string): string {
  const parts = ip.trim().split('.');
  return parts.length === 4 && parts.every((p) => /^\d+$/.test(p))
    ? parts.map((p) => String(Number(p))).join('.')
    : ip.trim();
}

function canonicalCidr(cidr: string): string {
  const [ip, prefix] = cidr.split('/');
  if (prefix === undefined) return canonicalIp(ip!);
  const canonicalPrefix = String(Number(prefix));
  const parts = canonicalIp(ip!).split('.').map(Number);
  const value = ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
  const size = 2 ** (32 - Number(canonicalPrefix));
  const base = value - (value % size);
  return `${[base >>> 24, (base >>> 16) & 255, (base >>> 8) & 255, base & 255].join('.')}/${canonicalPrefix}`;
}
