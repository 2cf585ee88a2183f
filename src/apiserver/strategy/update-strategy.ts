import type { Service, ServiceSpec } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/objects.ts';
import { type JsonObject, isPlainObject } from '../../api/own-properties.ts';
import { type Decoded, type PerKind, handlerFor } from '../per-kind.ts';

/**
 * What upstream's registry strategies do to an update before it is validated (PrepareForUpdate), as pure
 * functions: the status subresource keeps the stored spec but takes the request's metadata and status, and a
 * Service switching type drops the fields the new type no longer uses when the client left them as they were.
 */

/**
 * prepareStatusUpdate is a status-subresource write: everything outside metadata and status comes from the stored
 * object ("status changes are not allowed to update spec"); labels, annotations and the rest of metadata come from
 * the request, as the core kinds' status strategies keep them (they do not reset metadata for status).
 */
export function prepareStatusUpdate(
  body: KubeObject & JsonObject,
  old: KubeObject & JsonObject,
): KubeObject & JsonObject {
  const object: KubeObject & JsonObject = isPlainObject(body) ? structuredClone(body) : {};
  const fromRequest = (key: string) => key === 'metadata' || key === 'status' || key === 'kind' || key === 'apiVersion';
  for (const key of Object.keys(object)) if (!fromRequest(key)) delete object[key];
  for (const [key, value] of Object.entries(old)) if (!fromRequest(key)) object[key] = structuredClone(value);
  object.metadata ??= structuredClone(old.metadata ?? {});
  return object;
}

/**
 * prepareForUpdate is what a kind's strategy changes in a full update (not status) after defaulting: for now only
 * Services, which drop their type-dependent fields.
 */
export function prepareForUpdate(kind: string, object: KubeObject, old: KubeObject): void {
  handlerFor(PREPARE_FOR_UPDATE, kind)?.(object, old);
}

const PREPARE_FOR_UPDATE: PerKind<{ Service: Decoded<Service> }, void> = {
  Service: (svc, old) => dropServiceTypeDependentFields(svc, old ?? {}),
};

/**
 * dropServiceTypeDependentFields is upstream's dropTypeDependentFields (pkg/registry/core/service/strategy.go): on a
 * type change it wipes a field only when it no longer applies, may have been set automatically, and the client sent
 * it back unchanged (clusterIP(s), ipFamilies, ipFamilyPolicy, nodePorts, healthCheckNodePort,
 * allocateLoadBalancerNodePorts, loadBalancerClass, externalTrafficPolicy, the load balancer status).
 */
export function dropServiceTypeDependentFields(svc: Decoded<Service>, old: Decoded<Service>): void {
  const spec = (svc.spec ??= {});
  const was: Decoded<ServiceSpec> = old.spec ?? {};
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  if (needsClusterIP(was) && !needsClusterIP(spec)) {
    if (
      same(spec.clusterIP, was.clusterIP) &&
      (spec.clusterIPs === undefined || same(spec.clusterIPs, was.clusterIPs))
    ) {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    }
    if (spec.ipFamilies === undefined || same(spec.ipFamilies, was.ipFamilies)) delete spec.ipFamilies;
    if (spec.ipFamilyPolicy === undefined || same(spec.ipFamilyPolicy, was.ipFamilyPolicy)) delete spec.ipFamilyPolicy;
  }
  if (needsNodePort(was) && !needsNodePort(spec)) {
    const ports = (s: Decoded<ServiceSpec>) => (s.ports ?? []).map((p) => p.nodePort ?? 0);
    if (same(ports(spec), ports(was))) for (const p of spec.ports ?? []) delete p.nodePort;
    if (spec.healthCheckNodePort !== undefined && spec.healthCheckNodePort === was.healthCheckNodePort)
      delete spec.healthCheckNodePort;
  }
  if (was.type === 'LoadBalancer' && spec.type !== 'LoadBalancer') {
    if (
      spec.allocateLoadBalancerNodePorts !== undefined &&
      spec.allocateLoadBalancerNodePorts === was.allocateLoadBalancerNodePorts
    )
      delete spec.allocateLoadBalancerNodePorts;
    if (spec.loadBalancerClass !== undefined && spec.loadBalancerClass === was.loadBalancerClass)
      delete spec.loadBalancerClass;
    if (svc.status) svc.status.loadBalancer = {};
  }
  if (
    externallyAccessible(was) &&
    !externallyAccessible(spec) &&
    spec.externalTrafficPolicy === was.externalTrafficPolicy
  )
    delete spec.externalTrafficPolicy;
  // Internal traffic policy means nothing for an ExternalName Service; upstream's defaulting never sets it there.
  if (
    was.type !== 'ExternalName' &&
    spec.type === 'ExternalName' &&
    spec.internalTrafficPolicy === was.internalTrafficPolicy
  )
    delete spec.internalTrafficPolicy;
}

function needsClusterIP(spec: Decoded<ServiceSpec>): boolean {
  return spec.type !== 'ExternalName';
}

function needsNodePort(spec: Decoded<ServiceSpec>): boolean {
  return spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
}

function externallyAccessible(spec: Decoded<ServiceSpec>): boolean {
  return (
    spec.type === 'LoadBalancer' ||
    spec.type === 'NodePort' ||
    ((spec.type ?? 'ClusterIP') === 'ClusterIP' && (spec.externalIPs ?? []).length > 0)
  );
}
