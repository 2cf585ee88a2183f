import type { Informer, RestClient } from '../client/client.ts';
import type { Logger } from '../log/klog.ts';
import type { EventRecorder } from '../client/event-recorder.ts';

/** ControllerContext is what every controller of the controller manager shares: one client, shared informers. */
export interface ControllerContext {
  client: RestClient;
  informers: {
    pods: Informer;
    replicasets: Informer;
    deployments: Informer;
    services: Informer;
    endpointslices: Informer;
    endpoints: Informer;
    nodes: Informer;
    leases: Informer;
    namespaces: Informer;
    serviceaccounts: Informer;
    replicationcontrollers: Informer;
    jobs: Informer;
    cronjobs: Informer;
    daemonsets: Informer;
    controllerrevisions: Informer;
    resourcequotas: Informer;
  };
  events: EventRecorder;
  logger: Logger;
  /** Resolves once every informer has its first list: no controller acts on a partial cache. */
  synced: Promise<void>;
}

/** controllerOf returns the ownerReference with controller: true, if any. */
export function controllerOf(object: any): any | undefined {
  return (object.metadata?.ownerReferences ?? []).find((r: any) => r.controller === true);
}

/** ownerReference builds a controller ownerReference to an object. */
export function ownerReference(owner: any): object {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** isPodReady is the pod's Ready condition. */
export function isPodReady(pod: any): boolean {
  return (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}

/** isPodActive: not finished and not being deleted (what a ReplicaSet counts). */
export function isPodActive(pod: any): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata?.deletionTimestamp;
}

/** keyOf is `namespace/name` (client-go's MetaNamespaceKeyFunc), the informers' cache key. */
export { keyOf } from '../client/informer.ts';
