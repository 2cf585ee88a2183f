import type http from 'node:http';
import type { Attributes } from './request-attributes.ts';
import {
  ALL_AUTHENTICATED,
  ALL_UNAUTHENTICATED,
  ANONYMOUS,
  parseServiceAccountUsername,
  serviceAccountGroups,
  type UserInfo,
} from './user.ts';

/**
 * Impersonation is what a request's `Impersonate-*` headers ask for (upstream's impersonation filter, `kubectl --as`,
 * `--as-group`, `--as-uid`): the user to act as, and one authorization check per thing impersonated (verb
 * `impersonate` on users, serviceaccounts, groups, uids or userextras/<key>), each to pass for the real user.
 */
export interface Impersonation {
  user: UserInfo;
  checks: Attributes[];
}

const EXTRA_PREFIX = 'impersonate-extra-';

/**
 * impersonation reads the headers: undefined when there are none, an error message (400 as upstream) when groups,
 * extra or uid come without a user.
 */
export function impersonation(
  req: http.IncomingMessage,
  requester: UserInfo,
): Impersonation | { error: string } | undefined {
  const values = (name: string): string[] => {
    const v = req.headers[name];
    return v === undefined
      ? []
      : (Array.isArray(v) ? v : [v])
          .flatMap((s) => s.split(','))
          .map((s) => s.trim())
          .filter((s) => s !== '');
  };
  const users = values('impersonate-user');
  const groups = values('impersonate-group');
  const uids = values('impersonate-uid');
  const extra: Record<string, string[]> = {};
  for (const name of Object.keys(req.headers)) {
    if (!name.startsWith(EXTRA_PREFIX)) continue;
    let key = name.slice(EXTRA_PREFIX.length);
    try {
      key = decodeURIComponent(key);
    } catch {
      return { error: `invalid Impersonate-Extra header key ${JSON.stringify(key)}` };
    }
    extra[key] = values(name);
  }
  if (users.length === 0 && groups.length === 0 && uids.length === 0 && Object.keys(extra).length === 0)
    return undefined;
  if (users.length !== 1) return { error: 'requested impersonation without exactly one Impersonate-User' };
  if (uids.length > 1) return { error: 'requested impersonation with more than one Impersonate-Uid' };
  const username = users[0]!;
  const check = (
    resource: string,
    name: string,
    options: { apiGroup?: string; namespace?: string; subresource?: string } = {},
  ): Attributes => ({
    user: requester,
    verb: 'impersonate',
    resourceRequest: true,
    path: '',
    apiGroup: options.apiGroup ?? '',
    apiVersion: '',
    resource,
    subresource: options.subresource ?? '',
    namespace: options.namespace ?? '',
    name,
  });
  const checks: Attributes[] = [];
  const sa = parseServiceAccountUsername(username);
  const userGroups = [...groups];
  if (sa) {
    checks.push(check('serviceaccounts', sa.name, { namespace: sa.namespace }));
    if (groups.length === 0)
      userGroups.push(...serviceAccountGroups(sa.namespace).filter((g) => g !== ALL_AUTHENTICATED));
  } else {
    checks.push(check('users', username));
  }
  for (const g of groups) checks.push(check('groups', g));
  for (const u of uids) checks.push(check('uids', u, { apiGroup: 'authentication.k8s.io' }));
  for (const [key, vs] of Object.entries(extra))
    for (const v of vs) checks.push(check('userextras', v, { apiGroup: 'authentication.k8s.io', subresource: key }));
  if (username === ANONYMOUS) {
    if (!userGroups.includes(ALL_UNAUTHENTICATED)) userGroups.push(ALL_UNAUTHENTICATED);
  } else if (!userGroups.includes(ALL_AUTHENTICATED)) {
    userGroups.push(ALL_AUTHENTICATED);
  }
  const user: UserInfo = {
    username,
    groups: userGroups,
    ...(uids[0] ? { uid: uids[0] } : {}),
    ...(Object.keys(extra).length ? { extra } : {}),
  };
  return { user, checks };
}

/** isImpersonateHeader says whether a header is one of impersonation's (removed before the request goes on). */
export function isImpersonateHeader(name: string): boolean {
  return (
    name === 'impersonate-user' ||
    name === 'impersonate-group' ||
    name === 'impersonate-uid' ||
    name.startsWith(EXTRA_PREFIX)
  );
}
