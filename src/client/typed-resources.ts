import type { ControllerRevision, DaemonSet, Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { CronJob, Job } from 'kubernetes-types/batch/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type {
  ConfigMap,
  Endpoints,
  Event,
  Namespace,
  Node,
  Pod,
  ReplicationController,
  ResourceQuota,
  Secret,
  Service,
  ServiceAccount,
} from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { KubeObject, Stored } from '../api/objects.ts';
import type { ResourceInfo } from '../api/resources.ts';

/**
 * Typed resource handles: a ResourceInfo that also carries its objects' kubernetes-types type, so that the client's
 * get/list/create/update/patch/watch and informers built on it are typed without casts. A plain ResourceInfo gives
 * the generic Stored<KubeObject>.
 */
declare const objectType: unique symbol;

/** Resource is a ResourceInfo whose objects are T. */
export type Resource<T> = ResourceInfo & { readonly [objectType]?: T };

/**
 * ObjectOf is the object type of a resource handle: T for Resource<T>; for a plain ResourceInfo (a kind known only
 * at run time) the generic Stored<KubeObject>, whose spec and status the caller narrows. Tests, where any is
 * allowed, may ask for a Resource<any> to read objects freely.
 */
export type ObjectOf<I> = I extends { readonly [objectType]?: infer T }
  ? 0 extends 1 & T
    ? T
    : unknown extends T
      ? Stored<KubeObject>
      : T
  : Stored<KubeObject>;

/** ListOf is the list a GET of the collection answers. */
export interface ListOf<I> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion: string; continue?: string };
  items: ObjectOf<I>[];
}

/** The served resources with a kubernetes-types type, by plural name (their objects as the API server stores them). */
export interface ResourceTypes {
  configmaps: Stored<ConfigMap>;
  controllerrevisions: Stored<ControllerRevision>;
  cronjobs: Stored<CronJob>;
  daemonsets: Stored<DaemonSet>;
  deployments: Stored<Deployment>;
  endpoints: Stored<Endpoints>;
  endpointslices: Stored<EndpointSlice>;
  events: Stored<Event>;
  jobs: Stored<Job>;
  leases: Stored<Lease>;
  namespaces: Stored<Namespace>;
  nodes: Stored<Node>;
  pods: Stored<Pod>;
  replicasets: Stored<ReplicaSet>;
  replicationcontrollers: Stored<ReplicationController>;
  resourcequotas: Stored<ResourceQuota>;
  secrets: Stored<Secret>;
  serviceaccounts: Stored<ServiceAccount>;
  services: Stored<Service>;
}
