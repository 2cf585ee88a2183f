import type { Namespace } from 'kubernetes-types/core/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type { KubeObject } from '../api/objects.ts';
import type { ResourceInfo } from '../api/resources.ts';
import { conflict, forbidden, notFound } from '../api/status.ts';
import type { Decoded } from './per-kind.ts';

/**
 * Namespace lifecycle, as upstream's NamespaceLifecycle admission plugin and namespace registry strategy do it:
 * content may be created only in a namespace that exists and is not terminating; the system namespaces may not be
 * deleted; deleting a namespace first marks it Terminating (the namespace controller then empties it and removes
 * the `kubernetes` finalizer through `/finalize`, which deletes it).
 */

/** IMMORTAL_NAMESPACES may never be deleted (upstream's immortalNamespaces). */
export const IMMORTAL_NAMESPACES = ['default', 'kube-system', 'kube-public'];

/** FINALIZER_KUBERNETES is the spec finalizer every namespace gets on create, removed by the namespace controller. */
export const FINALIZER_KUBERNETES = 'kubernetes';

/** NAMESPACE_NAME_LABEL is set on every namespace to its own name (upstream since 1.21). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

/**
 * asNamespace is the one place this module reads an object as a Namespace: the registry hands it only objects of the
 * namespaces resource (a request's body decoded with the Namespace schema, or the stored namespace).
 */
function asNamespace(object: KubeObject): Decoded<Namespace> {
  return object as Decoded<Namespace>;
}

/** isTerminating: the namespace has been deleted (deletionTimestamp) or says so in its phase. */
export function isTerminating(namespace: KubeObject | undefined): boolean {
  if (!namespace) return false;
  return Boolean(namespace.metadata?.deletionTimestamp) || asNamespace(namespace).status?.phase === 'Terminating';
}

/**
 * admitCreate refuses new content in a namespace that does not exist (404 for the namespace) or is being
 * terminated (403 with upstream's cause `NamespaceTerminating`).
 */
export function admitCreate(info: ResourceInfo, namespace: string, name: string, ns: KubeObject | undefined): void {
  if (!ns) throw notFound({ group: '', resource: 'namespaces' }, namespace);
  if (!isTerminating(ns)) return;
  const error = forbidden(
    info,
    name,
    `unable to create new content in namespace ${namespace} because it is being terminated`,
  );
  error.status.details = {
    ...error.status.details,
    causes: [
      {
        reason: 'NamespaceTerminating',
        message: `namespace ${namespace} is being terminated`,
        field: 'metadata.namespace',
      },
    ],
  };
  throw error;
}

/** admitDelete refuses to delete the system namespaces. */
export function admitDelete(name: string): void {
  if (IMMORTAL_NAMESPACES.includes(name))
    throw forbidden({ group: '', resource: 'namespaces' }, name, 'this namespace may not be deleted');
}

/** prepareNamespaceForCreate: Active, the `kubernetes` finalizer and the name label, whatever the client sent. */
export function prepareNamespaceForCreate(object: KubeObject): void {
  const ns = asNamespace(object);
  ns.status = { phase: 'Active' };
  ns.spec ??= {};
  const finalizers = ns.spec.finalizers ?? [];
  if (!finalizers.includes(FINALIZER_KUBERNETES)) finalizers.push(FINALIZER_KUBERNETES);
  ns.spec.finalizers = finalizers;
  const meta = (ns.metadata ??= {});
  meta.labels = { ...(meta.labels ?? {}), [NAMESPACE_NAME_LABEL]: meta.name ?? '' };
}

/**
 * prepareNamespaceForUpdate keeps what each write path may not change: a plain update keeps spec.finalizers and
 * status, `status` keeps spec, `finalize` changes only spec.finalizers. The name label always stays.
 */
export function prepareNamespaceForUpdate<T extends KubeObject>(next: T, old: T, subresource: string | undefined): T {
  const nextNs = asNamespace(next);
  const oldNs = asNamespace(old);
  const out = structuredClone(subresource === 'finalize' || subresource === 'status' ? old : next);
  const ns = asNamespace(out);
  if (subresource === 'finalize') {
    ns.spec = { ...(oldNs.spec ?? {}), finalizers: nextNs.spec?.finalizers ?? [] };
  } else if (subresource === 'status') {
    ns.status = structuredClone(nextNs.status);
  } else {
    const finalizers = oldNs.spec?.finalizers ?? [];
    ns.spec = { ...(ns.spec ?? {}), finalizers };
    if (finalizers.length === 0) delete ns.spec.finalizers;
    ns.status = structuredClone(oldNs.status);
  }
  out.metadata ??= {};
  out.metadata.labels = { ...(out.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: old.metadata?.name ?? '' };
  return out;
}

/** namespaceFinished: a terminating namespace with no finalizer left goes away. */
export function namespaceFinished(ns: KubeObject): boolean {
  return (
    Boolean(ns.metadata?.deletionTimestamp) &&
    (asNamespace(ns).spec?.finalizers ?? []).length === 0 &&
    (ns.metadata?.finalizers ?? []).length === 0
  );
}

/**
 * markTerminating is what the first DELETE of a namespace does: a deletionTimestamp and phase Terminating (and the
 * orphan/foreground finalizers the propagation policy asks for). A later DELETE of a namespace whose finalizers
 * remain is a 409, with upstream's message.
 */
export function markTerminating<T extends KubeObject & { metadata: ObjectMeta }>(
  ns: T,
  policy: string | undefined,
  now: string,
): { object: T; remove: boolean } {
  if (ns.metadata.deletionTimestamp) {
    if ((asNamespace(ns).spec?.finalizers ?? []).length > 0) {
      throw conflict(
        { group: '', resource: 'namespaces' },
        ns.metadata.name ?? '',
        'The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.',
      );
    }
    return { object: ns, remove: (ns.metadata.finalizers ?? []).length === 0 };
  }
  const marked = structuredClone(ns);
  // Server-set fields, readonly in kubernetes-types: written through a writable view of the clone's metadata.
  const meta: { -readonly [K in keyof ObjectMeta]: ObjectMeta[K] } = marked.metadata;
  meta.deletionTimestamp = now;
  meta.deletionGracePeriodSeconds = 0;
  const view = asNamespace(marked);
  view.status = { ...(view.status ?? {}), phase: 'Terminating' };
  const finalizers = [...(marked.metadata.finalizers ?? [])];
  if (policy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
  if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
  if (finalizers.length) marked.metadata.finalizers = finalizers;
  return { object: marked, remove: false };
}
