import { randomUUID } from 'node:crypto';
import type { Binding, Node, Pod, ResourceQuota } from 'kubernetes-types/core/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { KubeObject, Stored } from '../api/objects.ts';
import type { JsonObject } from '../api/own-properties.ts';
import { groupVersion, qualifiedResource, resourceByName, type ResourceInfo } from '../api/resources.ts';
import {
  alreadyExists,
  badRequest,
  conflict,
  invalid,
  notFound,
  requestEntityTooLarge,
  type StatusCause,
} from '../api/status.ts';
import { matches, parseSelector } from '../api/labels.ts';
import { applyDefaults } from './defaults/defaults.ts';
import { applyMoreDefaults, prepareJobForCreate } from './defaults/workload-defaults.ts';
import { validate } from './validation/validation.ts';
import { validateMore } from './validation/workload-validation.ts';
import { matchesFields, parseFieldSelector } from './field-selector.ts';
import type { ServiceIps } from './service-ips.ts';
import { prepareForUpdate, prepareStatusUpdate } from './strategy/update-strategy.ts';
import { quotaCharges } from './quota-admission.ts';
import {
  admitCreate,
  admitDelete,
  markTerminating,
  namespaceFinished,
  prepareNamespaceForCreate,
  prepareNamespaceForUpdate,
} from './namespace-lifecycle.ts';
import {
  KeyExistsError,
  KeyNotFoundError,
  RevisionConflictError,
  type Store,
  type WatchEvent,
  type WatchOptions,
} from './storage/store.ts';
import { timestamp } from '../api/time.ts';
import { randomSuffix } from '../api/names.ts';

/** DeleteOptions as kubectl sends them. */
export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: string[];
}

/**
 * ApiObject is an object of any kind as the registry handles it: typed type meta and metadata, every other field
 * arbitrary JSON (defaulting and validation know each kind's fields; the registry moves them as they are).
 */
export type ApiObject = KubeObject & JsonObject;

export interface WriteOptions {
  dryRun: boolean;
}

export interface ListQuery {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

const PODS = resourceByName('', 'pods')!;
const NODES = resourceByName('', 'nodes')!;
const QUOTAS = resourceByName('', 'resourcequotas')!;

const MODIFIED_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';

/**
 * Registry is the object lifecycle over the Store: keys, resourceVersions, uid and timestamps, defaulting and
 * validation, status/spec separation, generation, graceful and finalizer-aware deletion, pod binding, ResourceQuota
 * charges, and Service IP and port allocation (its ServiceIps writes the IPAddress objects and NodePort keys). It is
 * the one writer of objects: the store is private, everything else goes through its operations. It knows nothing
 * of HTTP.
 */
export class Registry {
  readonly #store: Store;
  readonly serviceIps: ServiceIps;

  constructor(store: Store, serviceIps: ServiceIps) {
    this.#store = store;
    this.serviceIps = serviceIps;
  }

  /** key is where an object lives: `/registry/<resource[.group]>/<namespace>/<name>` (no namespace when cluster-scoped). */
  key(info: ResourceInfo, namespace: string | undefined, name: string): string {
    return `${this.prefix(info, namespace)}${name}`;
  }

  /** prefix is the key prefix of a collection (all namespaces when namespace is undefined). */
  prefix(info: ResourceInfo, namespace: string | undefined): string {
    const base = `/registry/${qualifiedResource(info)}/`;
    return info.namespaced && namespace !== undefined ? `${base}${namespace}/` : base;
  }

  /** decode turns a stored value into the object clients see. */
  decode(info: ResourceInfo, value: string, revision: number): Stored<ApiObject> {
    // The store holds only what encode wrote: an object the registry created, with name, uid and creationTimestamp.
    const object = JSON.parse(value) as ApiObject;
    object.kind = info.kind;
    object.apiVersion = groupVersion(info);
    const meta: Meta = (object.metadata ??= {});
    meta.resourceVersion = String(revision);
    return handOut(object);
  }

  async get(info: ResourceInfo, namespace: string | undefined, name: string): Promise<Stored<ApiObject>> {
    const stored = await this.#store.get(this.key(info, namespace, name));
    if (!stored) throw notFound(info, name);
    return this.decode(info, stored.value, stored.modRevision);
  }

  /** getPod reads a pod as its kubernetes-types type (the registry stores only what pod validation let through). */
  async getPod(namespace: string, name: string): Promise<Stored<Pod>> {
    return storedPod(await this.get(PODS, namespace, name));
  }

  /** getNode reads a node as its kubernetes-types type (the registry stores only what node validation let through). */
  async getNode(name: string): Promise<Stored<Node>> {
    return (await this.get(NODES, undefined, name)) as Stored<Node>;
  }

  async list(info: ResourceInfo, query: ListQuery): Promise<{ items: Stored<ApiObject>[]; revision: number }> {
    const filter = this.filter(info, query);
    const { items, revision } = await this.#store.list(this.prefix(info, query.namespace));
    const out: Stored<ApiObject>[] = [];
    for (const item of items) {
      const object = this.decode(info, item.value, item.modRevision);
      if (filter(object)) out.push(object);
    }
    return { items: out, revision };
  }

  /**
   * watch follows the changes of a collection (all namespaces when namespace is undefined) after fromRevision, as
   * Store.watch: onEvent gets the stored values, decode turns them into objects.
   */
  watch(
    info: ResourceInfo,
    namespace: string | undefined,
    fromRevision: number,
    onEvent: (event: WatchEvent) => void,
    options: WatchOptions,
  ): void {
    this.#store.watch(this.prefix(info, namespace), fromRevision, onEvent, options);
  }

  /** filter builds the label and field selector predicate of a list or watch (400 on a bad selector). */
  filter(info: ResourceInfo, query: ListQuery): (object: ApiObject) => boolean {
    let labels: ReturnType<typeof parseSelector> = [];
    try {
      labels = parseSelector(query.labelSelector ?? '');
    } catch (error) {
      throw badRequest(`unable to parse requirement: ${(error as Error).message}`);
    }
    const fields = parseFieldSelector(query.fieldSelector ?? '', info.resource);
    if (labels.length === 0 && fields.length === 0) return () => true;
    return (object) => matches(labels, object.metadata?.labels) && matchesFields(fields, object);
  }

  async create(
    info: ResourceInfo,
    namespace: string | undefined,
    body: ApiObject,
    options: WriteOptions,
  ): Promise<Stored<ApiObject>> {
    const object = structuredClone(body);
    const meta: Meta = (object.metadata ??= {});
    if (info.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace;
      const ns = await this.#store.get(`/registry/namespaces/${namespace}`);
      admitCreate(info, namespace!, meta.name || meta.generateName || 'Unknown', ns && JSON.parse(ns.value));
    } else {
      delete meta.namespace;
    }
    if (!meta.name && meta.generateName) {
      meta.name = `${meta.generateName}${randomSuffix(5)}`;
    }
    const name = meta.name;
    if (!name)
      throw invalid(info, '', [
        {
          reason: 'FieldValueRequired',
          message: 'Required value: name or generateName is required',
          field: 'metadata.name',
        },
      ]);
    object.kind = info.kind;
    object.apiVersion = groupVersion(info);
    meta.uid = randomUUID();
    prepareForCreate(info, object);
    applyDefaults(info.kind, object);
    applyMoreDefaults(info.kind, object);
    this.#check(info, object, [...validate(info.kind, object), ...validateMore(info.kind, object)]);
    meta.creationTimestamp = timestamp();
    meta.generation = 1;
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    const key = this.key(info, namespace, name);
    if (await this.#store.get(key)) throw alreadyExists(info, name);
    if (info.namespaced && namespace !== undefined) await this.#chargeQuota(info, namespace, object, options.dryRun);
    const release =
      info.resource === 'services' ? await this.serviceIps.allocate(object, undefined, options.dryRun) : async () => {};
    if (options.dryRun) return handOut(object);
    try {
      const revision = await this.#store.create(key, encode(object));
      meta.resourceVersion = String(revision);
      return handOut(object);
    } catch (error) {
      await release();
      if (error instanceof KeyExistsError) throw alreadyExists(info, name);
      throw error;
    }
  }

  /**
   * update replaces an object (PUT) or one of its subresources (`status`), with optimistic concurrency when the body
   * carries a resourceVersion. The main resource keeps the stored status; `status` keeps everything but status.
   */
  async update(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    body: ApiObject,
    options: WriteOptions & { subresource?: string },
  ): Promise<Stored<ApiObject>> {
    const key = this.key(info, namespace, name);
    const stored = await this.#store.get(key);
    if (!stored) throw notFound(info, name);
    const old = this.decode(info, stored.value, stored.modRevision);
    if (body?.metadata?.name !== undefined && body.metadata.name !== name) {
      throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    }
    const wanted = body?.metadata?.resourceVersion;
    if (wanted !== undefined && wanted !== '' && wanted !== old.metadata.resourceVersion)
      throw conflict(info, name, MODIFIED_MESSAGE);
    let object: ApiObject;
    if (info.resource === 'namespaces') {
      object = prepareNamespaceForUpdate(body, old, options.subresource);
    } else if (options.subresource === 'status') {
      object = prepareStatusUpdate(body, old);
    } else {
      object = structuredClone(body);
      if (info.subresources.includes('status') && info.resource !== 'namespaces')
        object.status = structuredClone(old.status);
      applyDefaults(info.kind, object);
      prepareForUpdate(info.kind, object, old);
      applyMoreDefaults(info.kind, object);
    }
    object.metadata ??= {};
    const meta: Meta = object.metadata;
    for (const field of KEPT_ON_UPDATE) carry(meta, old.metadata, field);
    object.kind = info.kind;
    object.apiVersion = groupVersion(info);
    meta.generation = old.metadata.generation ?? 1;
    if (options.subresource !== 'status' && JSON.stringify(specOf(object)) !== JSON.stringify(specOf(old)))
      meta.generation++;
    if (info.resource === 'services' && options.subresource !== 'status') this.serviceIps.carryOver(object, old);
    this.#check(info, object, [...validate(info.kind, object, old), ...validateMore(info.kind, object, old)]);
    const release =
      info.resource === 'services' && options.subresource !== 'status'
        ? await this.serviceIps.allocate(object, old, options.dryRun)
        : async () => {};
    if (options.dryRun) {
      meta.resourceVersion = old.metadata.resourceVersion;
      return handOut(object);
    }
    if (
      info.resource === 'namespaces'
        ? namespaceFinished(object)
        : meta.deletionTimestamp && (meta.finalizers ?? []).length === 0 && (old.metadata.finalizers ?? []).length > 0
    ) {
      // The last finalizer is gone from an object being deleted: it goes now.
      return this.#remove(info, key, old, stored.modRevision);
    }
    delete meta.resourceVersion;
    try {
      const revision = await this.#store.update(key, encode(object), stored.modRevision);
      meta.resourceVersion = String(revision);
      if (info.resource === 'services') await this.serviceIps.releaseRemoved(object, old);
      return handOut(object);
    } catch (error) {
      await release();
      if (error instanceof RevisionConflictError) throw conflict(info, name, MODIFIED_MESSAGE);
      if (error instanceof KeyNotFoundError) throw notFound(info, name);
      throw error;
    }
  }

  /**
   * delete removes an object, or marks it: pods on a node get a grace period (the kubelet finishes the delete),
   * objects with finalizers (or Foreground/Orphan propagation, which add one) get a deletionTimestamp.
   */
  async delete(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    options: DeleteOptions,
    write: WriteOptions,
  ): Promise<{ object: Stored<ApiObject>; finished: boolean }> {
    const key = this.key(info, namespace, name);
    for (let attempt = 0; ; attempt++) {
      const stored = await this.#store.get(key);
      if (!stored) throw notFound(info, name);
      const old = this.decode(info, stored.value, stored.modRevision);
      if (options.preconditions?.uid && options.preconditions.uid !== old.metadata.uid) {
        throw conflict(
          info,
          name,
          `Precondition failed: UID in precondition: ${options.preconditions.uid}, UID in object meta: ${old.metadata.uid}`,
        );
      }
      if (
        options.preconditions?.resourceVersion &&
        options.preconditions.resourceVersion !== old.metadata.resourceVersion
      ) {
        throw conflict(
          info,
          name,
          `Precondition failed: ResourceVersion in precondition: ${options.preconditions.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
        );
      }
      if (info.resource === 'namespaces') {
        admitDelete(name);
        const policy = options.propagationPolicy ?? (options.orphanDependents ? 'Orphan' : undefined);
        const { object: marked, remove } = markTerminating(old, policy, timestamp());
        if (write.dryRun) return { object: marked, finished: remove };
        try {
          if (remove) return { object: await this.#remove(info, key, old, stored.modRevision), finished: true };
          if (marked === old) return { object: old, finished: false };
          const markedMeta: Meta = marked.metadata;
          delete markedMeta.resourceVersion;
          const revision = await this.#store.update(key, encode(marked), stored.modRevision);
          markedMeta.resourceVersion = String(revision);
          return { object: marked, finished: false };
        } catch (error) {
          if (error instanceof RevisionConflictError && attempt < 5) continue;
          throw error;
        }
      }
      const marked = structuredClone(old);
      const meta: Meta = marked.metadata;
      const finalizers: string[] = [...(meta.finalizers ?? [])];
      const policy = options.propagationPolicy ?? (options.orphanDependents ? 'Orphan' : undefined);
      if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
      if (policy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
      const grace = info.resource === 'pods' ? podGracePeriod(old, options) : 0;
      if (finalizers.length === 0 && grace === 0) {
        if (write.dryRun) return { object: old, finished: true };
        try {
          return { object: await this.#remove(info, key, old, stored.modRevision), finished: true };
        } catch (error) {
          if (error instanceof RevisionConflictError && attempt < 5) continue;
          throw error;
        }
      }
      const now = Date.now();
      const deadline = timestamp(now + grace * 1000);
      if (meta.deletionTimestamp === undefined || grace < (meta.deletionGracePeriodSeconds ?? Infinity)) {
        meta.deletionTimestamp = deadline;
        meta.deletionGracePeriodSeconds = grace;
      }
      meta.finalizers = finalizers.length ? finalizers : undefined;
      if (meta.finalizers === undefined) delete meta.finalizers;
      if (write.dryRun) return { object: marked, finished: false };
      delete meta.resourceVersion;
      try {
        const revision = await this.#store.update(key, encode(marked), stored.modRevision);
        meta.resourceVersion = String(revision);
        return { object: marked, finished: false };
      } catch (error) {
        if (error instanceof RevisionConflictError && attempt < 5) continue;
        throw error;
      }
    }
  }

  /**
   * bind assigns a pod to a node (the pods/binding subresource), as upstream's BindingREST: the binding's uid and
   * resourceVersion, when set, are preconditions on the pod; a pod being deleted, already on a node or with
   * scheduling gates is a 409 Conflict on pods/binding; spec.nodeName (which no update may change) is set, the
   * binding's annotations merged, and the PodScheduled condition made True. Returns the bound pod.
   */
  async bind(namespace: string, name: string, binding: Binding, options: WriteOptions): Promise<Stored<Pod>> {
    if ((binding.metadata?.name ?? '') !== name) throw badRequest('name in URL does not match name in Binding object');
    if (binding.metadata?.namespace && binding.metadata.namespace !== namespace)
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    const causes: StatusCause[] = [];
    const { kind, name: node } = binding.target;
    if (kind && kind !== 'Node')
      causes.push({
        reason: 'FieldValueNotSupported',
        field: 'target.kind',
        message: `Unsupported value: ${JSON.stringify(kind)}: supported values: "Node", "<empty>"`,
      });
    if (!node) causes.push({ reason: 'FieldValueRequired', field: 'target.name', message: 'Required value' });
    if (causes.length > 0 || node === undefined) throw invalid({ group: '', kind: 'Binding' }, name, causes);
    const info = PODS;
    const key = this.key(info, namespace, name);
    const refused = (message: string) => conflict({ group: '', resource: 'pods/binding' }, name, message);
    for (let attempt = 0; ; attempt++) {
      const stored = await this.#store.get(key);
      if (!stored) throw notFound(info, name);
      const object = this.decode(info, stored.value, stored.modRevision);
      const pod = podView(object);
      const preconditionFailed = (what: string, wanted: string, actual: string | undefined) =>
        conflict(
          info,
          name,
          `StorageError: invalid object, Code: 4, Key: ${key}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: ${what} in precondition: ${wanted}, ${what} in object meta: ${actual ?? ''}`,
        );
      const { uid, resourceVersion } = binding.metadata ?? {};
      if (uid && uid !== pod.metadata.uid) throw preconditionFailed('UID', uid, pod.metadata.uid);
      if (resourceVersion && resourceVersion !== pod.metadata.resourceVersion)
        throw preconditionFailed('ResourceVersion', resourceVersion, pod.metadata.resourceVersion);
      if (pod.metadata.deletionTimestamp) throw refused(`pod ${name} is being deleted, cannot be assigned to a host`);
      if (pod.spec?.nodeName) throw refused(`pod ${name} is already assigned to node "${pod.spec.nodeName}"`);
      if ((pod.spec?.schedulingGates ?? []).length > 0)
        throw refused(`pod ${name} has non-empty .spec.schedulingGates`);
      pod.spec = { ...pod.spec, nodeName: node };
      const annotations = binding.metadata?.annotations;
      if (annotations) pod.metadata.annotations = { ...pod.metadata.annotations, ...annotations };
      pod.status ??= {};
      const conditions = pod.status.conditions ?? [];
      const index = conditions.findIndex((c) => c.type === 'PodScheduled');
      const previous = index === -1 ? undefined : conditions[index];
      const scheduled = {
        type: 'PodScheduled',
        status: 'True',
        lastProbeTime: null,
        lastTransitionTime: previous?.status === 'True' ? previous.lastTransitionTime : timestamp(),
      };
      pod.status.conditions =
        index === -1 ? [...conditions, scheduled] : conditions.map((c, i) => (i === index ? scheduled : c));
      if (options.dryRun) return storedPod(object);
      try {
        const revision = await this.#store.update(key, encode(object), stored.modRevision);
        const meta: Meta = object.metadata;
        meta.resourceVersion = String(revision);
        return storedPod(object);
      } catch (error) {
        if (error instanceof RevisionConflictError && attempt < 5) continue;
        if (error instanceof KeyNotFoundError) throw notFound(info, name);
        throw error;
      }
    }
  }

  /**
   * #chargeQuota admits a create against its namespace's ResourceQuotas (quotaCharges decides, 403 when over) and
   * writes the charged quotas' status.used, again from the start when a quota moved on meanwhile (five tries).
   */
  async #chargeQuota(info: ResourceInfo, namespace: string, object: ApiObject, dryRun: boolean): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const { items } = await this.#store.list(this.prefix(QUOTAS, namespace));
      const quotas = items.map((item) => asQuota(this.decode(QUOTAS, item.value, item.modRevision)));
      const charged = quotaCharges(info, object, quotas);
      if (dryRun) return;
      try {
        for (const quota of charged)
          await this.#store.update(
            this.key(QUOTAS, namespace, quota.metadata.name),
            encode(quota),
            Number(quota.metadata.resourceVersion),
          );
        return;
      } catch (error) {
        if (!(error instanceof RevisionConflictError)) throw error;
      }
    }
  }

  async #remove(info: ResourceInfo, key: string, old: Stored<ApiObject>, revision: number): Promise<Stored<ApiObject>> {
    try {
      const result = await this.#store.delete(key, revision);
      if (info.resource === 'services') await this.serviceIps.release(old);
      const meta: Meta = old.metadata;
      meta.resourceVersion = String(result.revision);
      return old;
    } catch (error) {
      if (error instanceof KeyNotFoundError) throw notFound(info, old.metadata.name);
      throw error;
    }
  }

  #check(info: ResourceInfo, object: ApiObject, causes: StatusCause[]): void {
    if (causes.length > 0) throw invalid(info, object.metadata?.name ?? '', causes);
  }
}

/** BoundPod is what a binding reads and writes of a pod (conditions keep upstream's `lastProbeTime: null`). */
interface BoundPod {
  metadata: ObjectMeta;
  spec?: { nodeName?: string; schedulingGates?: unknown[] };
  status?: {
    conditions?: { type: string; status: string; lastProbeTime?: string | null; lastTransitionTime?: string | null }[];
  };
}

/** podView reads a stored pod as the fields a binding touches (the registry stores what validation let through). */
function podView(object: Stored<ApiObject>): BoundPod {
  return object as BoundPod;
}

/** asPod reads an object of the pods resource as a Pod: the registry stores only what pod validation let through. */
function asPod(object: ApiObject): Pod {
  return object as Pod;
}

/** storedPod is asPod for a pod as the registry hands it out. */
function storedPod(object: Stored<ApiObject>): Stored<Pod> {
  return object as Stored<Pod>;
}

/** asQuota reads a stored ResourceQuota as its kubernetes-types type (validation let only that shape through). */
function asQuota(object: Stored<ApiObject>): Stored<ResourceQuota> {
  return object as Stored<ResourceQuota>;
}

/**
 * handOut is an object as the registry answers it: on create the registry set name, uid and creationTimestamp, and
 * updates keep them; resourceVersion is the store's revision (absent only from a dry-run create, as upstream).
 */
function handOut(object: ApiObject): Stored<ApiObject> {
  return object as Stored<ApiObject>;
}

/** Meta is metadata as the registry writes it (kubernetes-types marks the fields only servers set readonly). */
type Meta = { -readonly [K in keyof ObjectMeta]: ObjectMeta[K] };

/** KEPT_ON_UPDATE is the metadata an update may not change: the stored object's values win. */
const KEPT_ON_UPDATE = [
  'uid',
  'creationTimestamp',
  'namespace',
  'name',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
] as const;

/** carry copies one metadata field from the stored object (removing it when the stored object has none). */
function carry<K extends keyof ObjectMeta>(to: Meta, from: ObjectMeta, field: K): void {
  if (from[field] === undefined) delete to[field];
  else to[field] = from[field];
}

/**
 * MAX_OBJECT_BYTES is the largest object the store takes: etcd's default request limit (--max-request-bytes,
 * 1.5 MiB). Both stores refuse more with 413, so an object that fits one fits the other.
 */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;

/** encode is what the store keeps: the object without its resourceVersion (the store's revision is that); 413 past MAX_OBJECT_BYTES. */
export function encode(object: KubeObject): string {
  const copy = { ...object, metadata: { ...object.metadata } };
  delete copy.metadata.resourceVersion;
  const text = JSON.stringify(copy);
  if (text.length > MAX_OBJECT_BYTES / 3 && Buffer.byteLength(text) > MAX_OBJECT_BYTES)
    throw requestEntityTooLarge(MAX_OBJECT_BYTES);
  return text;
}

/** specOf is what a generation counts: everything but metadata and status. */
function specOf(object: ApiObject): unknown {
  const { metadata: _m, status: _s, ...rest } = object;
  return rest;
}

/** prepareForCreate resets what clients may not set on create, as upstream's strategies do. */
function prepareForCreate(info: ResourceInfo, object: ApiObject): void {
  switch (info.resource) {
    case 'pods':
      object.status = { phase: 'Pending', qosClass: qosClass(asPod(object)) };
      break;
    case 'services':
      object.status = { loadBalancer: {} };
      break;
    case 'deployments':
    case 'replicasets':
    case 'replicationcontrollers':
    case 'daemonsets':
    case 'cronjobs':
      object.status = {};
      break;
    case 'jobs':
      prepareJobForCreate(object);
      break;
    case 'namespaces':
      prepareNamespaceForCreate(object);
      break;
  }
}

function qosClass(pod: Pod): string {
  const containers = pod.spec?.containers ?? [];
  const hasAny = containers.some(
    (c) => Object.keys(c.resources?.requests ?? {}).length || Object.keys(c.resources?.limits ?? {}).length,
  );
  if (!hasAny) return 'BestEffort';
  const guaranteed = containers.every((c) => {
    const l = c.resources?.limits ?? {};
    const r = c.resources?.requests ?? {};
    return l.cpu && l.memory && (r.cpu ?? l.cpu) === l.cpu && (r.memory ?? l.memory) === l.memory;
  });
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** podGracePeriod is how long a pod gets to stop: 0 when it never ran on a node or has finished. */
function podGracePeriod(object: Stored<ApiObject>, options: DeleteOptions): number {
  const pod = asPod(object);
  if (!pod.spec?.nodeName) return 0;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return 0;
  const grace = options.gracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  if (object.metadata.deletionTimestamp && grace >= (object.metadata.deletionGracePeriodSeconds ?? 0))
    return object.metadata.deletionGracePeriodSeconds ?? 0;
  return Math.max(0, grace);
}
