import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { Endpoints, Namespace, Pod, PodSpec, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { KubeObject } from '../../api/objects.ts';
import { setOwn } from '../../api/own-properties.ts';
import { type Decoded, type PerKind, handlerFor } from '../per-kind.ts';

interface DefaultedKinds {
  Service: Decoded<Service>;
  Pod: Decoded<Pod>;
  Deployment: Decoded<Deployment>;
  ReplicaSet: Decoded<ReplicaSet>;
  Namespace: Decoded<Namespace>;
  Endpoints: Decoded<Endpoints>;
  EndpointSlice: Decoded<EndpointSlice>;
}

const DEFAULTERS: PerKind<DefaultedKinds, void> = {
  Service: defaultService,
  Pod(pod) {
    pod.spec ??= {};
    defaultPodSpec(pod.spec);
    requestsFromLimits(pod.spec);
  },
  Deployment: defaultDeployment,
  ReplicaSet(rs) {
    rs.spec ??= {};
    rs.spec.replicas ??= 1;
    rs.spec.template ??= {};
    rs.spec.template.spec ??= {};
    defaultPodSpec(rs.spec.template.spec);
  },
  Namespace(ns) {
    ns.spec ??= {};
    ns.spec.finalizers ??= ['kubernetes'];
    ns.status ??= {};
    ns.status.phase ??= 'Active';
  },
  Endpoints(ep) {
    for (const subset of ep.subsets ?? []) for (const p of subset.ports ?? []) p.protocol ??= 'TCP';
  },
  EndpointSlice(slice) {
    for (const p of slice.ports ?? []) p.protocol ??= 'TCP';
    for (const e of slice.endpoints ?? []) e.conditions ??= {};
  },
};

/**
 * applyDefaults fills in what upstream's defaulting fills in for the served kinds, so that what kubectl describes
 * and what controllers and the proxy read match a real cluster.
 */
export function applyDefaults(kind: string, object: KubeObject): void {
  handlerFor(DEFAULTERS, kind)?.(object, undefined);
}

function defaultService(svc: Decoded<Service>): void {
  const spec = (svc.spec ??= {});
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  if (spec.sessionAffinity === 'ClientIP') {
    spec.sessionAffinityConfig ??= {};
    spec.sessionAffinityConfig.clientIP ??= {};
    spec.sessionAffinityConfig.clientIP.timeoutSeconds ??= 10800;
  } else if (spec.sessionAffinity === 'None') {
    // Upstream's SetDefaults_Service: no affinity, no affinity config (switching back to None clears it).
    delete spec.sessionAffinityConfig;
  }
  if (spec.type !== 'ExternalName') {
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
    spec.internalTrafficPolicy ??= 'Cluster';
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
  for (const p of spec.ports ?? []) {
    p.protocol ??= 'TCP';
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
}

function defaultDeployment(d: Decoded<Deployment>): void {
  const spec = (d.spec ??= {});
  spec.replicas ??= 1;
  spec.strategy ??= {};
  spec.strategy.type ??= 'RollingUpdate';
  if (spec.strategy.type === 'RollingUpdate') {
    spec.strategy.rollingUpdate ??= {};
    spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
    spec.strategy.rollingUpdate.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  spec.template ??= {};
  spec.template.spec ??= {};
  defaultPodSpec(spec.template.spec);
}

/** defaultPodSpec is upstream's SetDefaults_PodSpec plus container defaults. */
export function defaultPodSpec(spec: Decoded<PodSpec>): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  spec.enableServiceLinks ??= true;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    c.terminationMessagePath ??= '/dev/termination-log';
    c.terminationMessagePolicy ??= 'File';
    c.imagePullPolicy ??= imagePullPolicy(c.image);
    c.resources ??= {};
    for (const p of c.ports ?? []) p.protocol ??= 'TCP';
    for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
      if (!probe) continue;
      probe.timeoutSeconds ??= 1;
      probe.periodSeconds ??= 10;
      probe.successThreshold ??= 1;
      probe.failureThreshold ??= 3;
      if (probe.httpGet) probe.httpGet.scheme ??= 'HTTP';
      if (probe.httpGet) probe.httpGet.path ??= '/';
    }
  }
}

/**
 * requestsFromLimits is upstream's SetDefaults_Pod (Pods, not templates): a container that sets a limit and no request
 * for a resource requests its limit, so the scheduler, quota and QoS all see what the kubelet enforces.
 */
function requestsFromLimits(spec: Decoded<PodSpec>): void {
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    const resources = c.resources;
    if (!resources?.limits) continue;
    const requests = (resources.requests ??= {});
    for (const [name, value] of Object.entries(resources.limits))
      if (!Object.hasOwn(requests, name)) setOwn(requests, name, value);
  }
}

function imagePullPolicy(image: string | undefined): string {
  if (!image) return 'IfNotPresent';
  const last = image.split('/').pop() ?? '';
  if (last.includes('@')) return 'IfNotPresent';
  const tag = last.includes(':') ? last.split(':').pop() : undefined;
  return tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent';
}
