import { forbidden } from '../api/status.ts';
import type { ResourceInfo } from '../api/resources.ts';
import { formatQuota, parseQuota, usageOf } from '../api/quota-usage.ts';
import { RevisionConflictError, type Store } from './storage/store.ts';

/**
 * admitQuota is upstream's ResourceQuota admission for creates: every quota of the namespace that limits a resource
 * name the new object counts for must have room for it (by its `status.used`, which the resource quota controller
 * keeps), and its usage is charged at once so that concurrent creates cannot overshoot. Refusals are 403s with
 * upstream's text: `exceeded quota: <name>, requested: pods=1, used: pods=2, limited: pods=2`.
 */
export async function admitQuota(
  store: Store,
  info: ResourceInfo,
  namespace: string,
  object: any,
  dryRun: boolean,
): Promise<void> {
  const prefix = `/registry/resourcequotas/${namespace}/`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const { items } = await store.list(prefix);
    if (items.length === 0) return;
    const usage = usageOf(info.resource, info.group, object);
    const name = object.metadata?.name || object.metadata?.generateName || '';
    const charges: { key: string; revision: number; quota: any }[] = [];
    for (const item of items) {
      const quota = JSON.parse(item.value);
      const hard: Record<string, string> = quota.spec?.hard ?? {};
      const limited = Object.keys(hard)
        .filter((r) => (usage[r] ?? 0) > 0)
        .sort();
      if (limited.length === 0) continue;
      const used: Record<string, string> = quota.status?.used ?? {};
      const unknown = limited.filter((r) => used[r] === undefined);
      if (unknown.length)
        throw forbidden(info, name, `status unknown for quota: ${quota.metadata.name}, resource: ${unknown.join(',')}`);
      const over = limited.filter((r) => parseQuota(r, used[r]!) + usage[r]! > parseQuota(r, hard[r]!));
      if (over.length) {
        const list = (values: (r: string) => string) => over.map((r) => `${r}=${values(r)}`).join(',');
        throw forbidden(
          info,
          name,
          `exceeded quota: ${quota.metadata.name}, requested: ${list((r) => formatQuota(r, usage[r]!))}, used: ${list((r) => used[r]!)}, limited: ${list((r) => hard[r]!)}`,
        );
      }
      const next = { ...used };
      for (const r of limited) next[r] = formatQuota(r, parseQuota(r, used[r]!) + usage[r]!);
      charges.push({
        key: item.key,
        revision: item.modRevision,
        quota: { ...quota, status: { ...quota.status, used: next } },
      });
    }
    if (dryRun) return;
    try {
      for (const c of charges) await store.update(c.key, JSON.stringify(c.quota), c.revision);
      return;
    } catch (error) {
      if (!(error instanceof RevisionConflictError)) throw error;
    }
  }
}
