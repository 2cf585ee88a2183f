import type { Deployment, ReplicaSet } from 'kubernetes-types/apps/v1.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';

/**
 * Deployment revisions as upstream's deployment util keeps them: `deployment.kubernetes.io/revision` on every
 * ReplicaSet (int64: adopted ReplicaSets may carry any value, so BigInt), the new ReplicaSet at max(old) + 1 with
 * the revisions it had before in `deployment.kubernetes.io/revision-history`, and the Deployment's annotations
 * copied onto its new ReplicaSet.
 */
export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
/** Upstream's default limit on the revision history annotation's length. */
const REVISION_HISTORY_LIMIT_CHARS = 2000;
const NOT_COPIED = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION,
  REVISION_HISTORY,
  DESIRED_REPLICAS,
  MAX_REPLICAS,
  'deprecated.deployment.rollback.to',
]);

/** revisionOf reads a ReplicaSet's revision (0 when absent or not an integer). */
export function revisionOf(rs: ReplicaSet | undefined): bigint {
  const text = rs?.metadata?.annotations?.[REVISION];
  return typeof text === 'string' && /^-?\d+$/.test(text) ? BigInt(text) : 0n;
}

/** maxRevision is the highest revision among ReplicaSets (0 for none). */
export function maxRevision(replicaSets: readonly ReplicaSet[]): bigint {
  return replicaSets.reduce((max: bigint, rs) => (revisionOf(rs) > max ? revisionOf(rs) : max), 0n);
}

/**
 * newReplicaSetAnnotations is what the new ReplicaSet's annotations must hold (upstream's
 * SetNewReplicaSetAnnotations): the Deployment's own annotations, the revision raised to newRevision when lower
 * (the old value appended to the history), and on creation (existing undefined) the replica annotations.
 */
export function newReplicaSetAnnotations(
  d: Pick<Deployment, 'metadata'> & { spec?: { replicas?: number } },
  existing: ReplicaSet | undefined,
  newRevision: string,
  maxSurge: number,
): Record<string, string> {
  const current: Record<string, string> = { ...(existing?.metadata?.annotations ?? {}) };
  const out: Record<string, string> = { ...current };
  for (const [k, v] of Object.entries(d.metadata?.annotations ?? {})) if (!NOT_COPIED.has(k)) out[k] = v;
  const oldText = current[REVISION];
  const old =
    oldText !== undefined && /^-?\d+$/.test(oldText)
      ? BigInt(oldText)
      : oldText === undefined || oldText === ''
        ? 0n
        : undefined;
  if (old !== undefined && old < BigInt(newRevision)) {
    out[REVISION] = newRevision;
    if (oldText) {
      const history = current[REVISION_HISTORY] ? current[REVISION_HISTORY].split(',') : [];
      let total = (current[REVISION_HISTORY] ?? '').length + oldText.length + 1;
      while (total > REVISION_HISTORY_LIMIT_CHARS && history.length) total -= history.shift()!.length + 1;
      if (total <= REVISION_HISTORY_LIMIT_CHARS) out[REVISION_HISTORY] = [...history, oldText].join(',');
    }
  }
  if (!existing) {
    const replicas = d.spec?.replicas ?? 1;
    out[DESIRED_REPLICAS] = String(replicas);
    out[MAX_REPLICAS] = String(replicas + maxSurge);
  }
  return out;
}

/** equalIgnoreHash compares two pod templates leaving out the pod-template-hash label (upstream's EqualIgnoreHash). */
export function equalIgnoreHash(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  const strip = (t: PodTemplateSpec | undefined) => {
    const copy = structuredClone(t ?? {});
    if (copy.metadata?.labels) delete copy.metadata.labels['pod-template-hash'];
    return canonical(copy);
  };
  return strip(a) === strip(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(
      ([, v]) =>
        v !== undefined &&
        v !== null &&
        !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0),
    );
    return `{${entries
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}
