import { conflict, forbidden, notFound } from '../api/status.ts';
import type { ResourceInfo } from '../api/resources.ts';

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

/** isTerminating: the namespace has been deleted (deletionTimestamp) or says so in its phase. */
export function isTerminating(namespace: any): boolean {
  return Boolean(namespace?.metadata?.deletionTimestamp) || namespace?.status?.phase === 'Terminating';
}

/**
 * admitCreate refuses new content in a namespace that does not exist (404 for the namespace) or is being
 * terminated (403 with upstream's cause `NamespaceTerminating`).
 */
export function admitCreate(info: ResourceInfo, namespace: string, name: string, ns: any | undefined): void {
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
export function prepareNamespaceForCreate(ns: any): void {
  ns.status = { phase: 'Active' };
  ns.spec ??= {};
  const finalizers: string[] = ns.spec.finalizers ?? [];
  if (!finalizers.includes(FINALIZER_KUBERNETES)) finalizers.push(FINALIZER_KUBERNETES);
  ns.spec.finalizers = finalizers;
  ns.metadata.labels = { ...(ns.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: ns.metadata.name };
}

/**
 * prepareNamespaceForUpdate keeps what each write path may not change: a plain update keeps spec.finalizers and
 * status, `status` keeps spec, `finalize` changes only spec.finalizers. The name label always stays.
 */
export function prepareNamespaceForUpdate(next: any, old: any, subresource: string | undefined): any {
  let out: any;
  if (subresource === 'finalize') {
    out = structuredClone(old);
    out.spec = { ...(old.spec ?? {}), finalizers: next.spec?.finalizers ?? [] };
  } else if (subresource === 'status') {
    out = { ...structuredClone(old), status: structuredClone(next.status) };
  } else {
    out = structuredClone(next);
    out.spec = { ...(out.spec ?? {}), finalizers: old.spec?.finalizers ?? [] };
    if ((out.spec.finalizers as string[]).length === 0) delete out.spec.finalizers;
    out.status = structuredClone(old.status);
  }
  out.metadata ??= {};
  out.metadata.labels = { ...(out.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: old.metadata.name };
  return out;
}

/** namespaceFinished: a terminating namespace with no finalizer left goes away. */
export function namespaceFinished(ns: any): boolean {
  return (
    Boolean(ns.metadata?.deletionTimestamp) &&
    (ns.spec?.finalizers ?? []).length === 0 &&
    (ns.metadata?.finalizers ?? []).length === 0
  );
}

/**
 * markTerminating is what the first DELETE of a namespace does: a deletionTimestamp and phase Terminating (and the
 * orphan/foreground finalizers the propagation policy asks for). A later DELETE of a namespace whose finalizers
 * remain is a 409, with upstream's message.
 */
export function markTerminating(ns: any, policy: string | undefined, now: string): { object: any; remove: boolean } {
  if (ns.metadata.deletionTimestamp) {
    if ((ns.spec?.finalizers ?? []).length > 0) {
      throw conflict(
        { group: '', resource: 'namespaces' },
        ns.metadata.name,
        'The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.',
      );
    }
    return { object: ns, remove: (ns.metadata.finalizers ?? []).length === 0 };
  }
  const marked = structuredClone(ns);
  marked.metadata.deletionTimestamp = now;
  marked.metadata.deletionGracePeriodSeconds = 0;
  marked.status = { ...(marked.status ?? {}), phase: 'Terminating' };
  const finalizers: string[] = [...(marked.metadata.finalizers ?? [])];
  if (policy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
  if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
  if (finalizers.length) marked.metadata.finalizers = finalizers;
  return { object: marked, remove: false };
}
