import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ObjectMeta, OwnerReference } from 'kubernetes-types/meta/v1.js';
import type { Informer, ResourceTypes, RestClient } from '../client/client.ts';
import type { Logger } from '../log/klog.ts';
import type { EventRecorder } from '../client/event-recorder.ts';

/** SHARED_INFORMERS are the resources the controller manager keeps one informer of, shared by its controllers. */
export const SHARED_INFORMERS = [
  'pods',
  'replicasets',
  'deployments',
  'services',
  'endpointslices',
  'endpoints',
  'nodes',
  'leases',
  'namespaces',
  'serviceaccounts',
  'replicationcontrollers',
  'jobs',
  'cronjobs',
  'daemonsets',
  'controllerrevisions',
  'resourcequotas',
] as const satisfies readonly (keyof ResourceTypes)[];

/** SharedInformers are the typed shared informers, by resource. */
export type SharedInformers = { [R in (typeof SHARED_INFORMERS)[number]]: Informer<ResourceTypes[R]> };

/** ControllerContext is what every controller of the controller manager shares: one client, shared informers. */
export interface ControllerContext {
  client: RestClient;
  informers: SharedInformers;
  events: EventRecorder;
  logger: Logger;
  /** Resolves once every informer has its first list: no controller acts on a partial cache. */
  synced: Promise<void>;
}

/** controllerOf returns the ownerReference with controller: true, if any. */
export function controllerOf(object: { metadata?: ObjectMeta }): OwnerReference | undefined {
  return (object.metadata?.ownerReferences ?? []).find((r) => r.controller === true);
}

/** controllerKey is the `namespace/name` key of the object's controller when it is a kind, to queue the owner. */
export function controllerKey(object: { metadata?: ObjectMeta }, kind: string): string | undefined {
  const owner = controllerOf(object);
  return owner?.kind === kind ? `${object.metadata?.namespace}/${owner.name}` : undefined;
}

/** Owner is what an ownerReference names: an object as the API server hands it out (kind and apiVersion set). */
export interface Owner {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; uid: string };
}

/** ownerReference builds a controller ownerReference to an object. */
export function ownerReference(owner: Owner): OwnerReference {
  return {
    apiVersion: owner.apiVersion!,
    kind: owner.kind!,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** isPodReady is the pod's Ready condition. */
export function isPodReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** isPodActive: not finished and not being deleted (what a ReplicaSet counts). */
export function isPodActive(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata?.deletionTimestamp;
}

/** keyOf is `namespace/name` (client-go's MetaNamespaceKeyFunc), the informers' cache key. */
export { keyOf } from '../client/informer.ts';
