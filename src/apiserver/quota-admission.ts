import type { ResourceQuota } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../api/objects.ts';
import { forbidden } from '../api/status.ts';
import type { ResourceInfo } from '../api/resources.ts';
import { formatQuota, parseQuota, usageOf } from '../api/quota-usage.ts';

/**
 * quotaCharges is upstream's ResourceQuota admission for creates: every quota of the namespace that limits a resource
 * name the new object counts for must have room for it (by its `status.used`, which the resource quota controller
 * keeps), and its usage is charged at once so that concurrent creates cannot overshoot. It returns the quotas that
 * limit the object with the object charged to their `status.used` (the registry writes them); refusals are 403s
 * with upstream's text: `exceeded quota: <name>, requested: pods=1, used: pods=2, limited: pods=2`.
 */
export function quotaCharges<Q extends ResourceQuota>(
  info: ResourceInfo,
  object: KubeObject,
  quotas: readonly Q[],
): Q[] {
  if (quotas.length === 0) return [];
  const usage = usageOf(info.resource, info.group, object);
  const name = object.metadata?.name || object.metadata?.generateName || '';
  const charged: Q[] = [];
  for (const quota of quotas) {
    const quotaName = quota.metadata?.name ?? '';
    const hard = quota.spec?.hard ?? {};
    const limited = Object.keys(hard)
      .filter((r) => (usage[r] ?? 0) > 0)
      .sort();
    if (limited.length === 0) continue;
    const used = quota.status?.used ?? {};
    const unknown = limited.filter((r) => used[r] === undefined);
    if (unknown.length)
      throw forbidden(info, name, `status unknown for quota: ${quotaName}, resource: ${unknown.join(',')}`);
    const over = limited.filter((r) => parseQuota(r, used[r]!) + usage[r]! > parseQuota(r, hard[r]!));
    if (over.length) {
      const list = (values: (r: string) => string) => over.map((r) => `${r}=${values(r)}`).join(',');
      throw forbidden(
        info,
        name,
        `exceeded quota: ${quotaName}, requested: ${list((r) => formatQuota(r, usage[r]!))}, used: ${list((r) => used[r]!)}, limited: ${list((r) => hard[r]!)}`,
      );
    }
    const next = { ...used };
    for (const r of limited) next[r] = formatQuota(r, parseQuota(r, used[r]!) + usage[r]!);
    charged.push({ ...quota, status: { ...quota.status, used: next } });
  }
  return charged;
}
