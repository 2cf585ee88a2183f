import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StatusError } from '../../api/status.ts';
import type { Attributes } from './request-attributes.ts';
import { RbacPolicy } from './rbac.ts';
import { type ReviewDeps, review } from './reviews.ts';
import { SYSTEM_MASTERS, type UserInfo } from './user.ts';

/** deps: an authorizer that allows system:masters (as the real one does first) and records what it was asked. */
function deps(asked: Attributes[]): ReviewDeps {
  return {
    authenticator: { authenticateToken: async () => ({ error: 'invalid bearer token' }) },
    authorizer: {
      policy: new RbacPolicy(),
      authorize: async (a: Attributes) => {
        asked.push(a);
        return a.user.groups.includes(SYSTEM_MASTERS)
          ? { decision: 'allow', reason: '' }
          : { decision: 'noOpinion', reason: '' };
      },
    },
    lookup: async () => undefined,
  };
}

const ME: UserInfo = { username: 'me', groups: ['system:authenticated'] };
const SAR = { group: 'authorization.k8s.io', version: 'v1', resource: 'subjectaccessreviews', user: ME };
const ATTRS = { verb: 'get', resource: 'secrets', namespace: 'default' };

test('a SubjectAccessReview whose groups is a string is a 400, not a substring match on system:masters', async () => {
  const asked: Attributes[] = [];
  const body = { spec: { user: 'eve', groups: 'system:masters', resourceAttributes: ATTRS } };
  await assert.rejects(
    review(deps(asked), { ...SAR, body }),
    (error: unknown) =>
      error instanceof StatusError &&
      error.code === 400 &&
      /cannot be handled as a SubjectAccessReview: json: cannot unmarshal string into Go struct field/.test(
        error.message,
      ),
  );
  assert.equal(asked.length, 0);
});

test('a SubjectAccessReview asks the authorizer about the subject in its spec', async () => {
  const asked: Attributes[] = [];
  const body = { spec: { user: 'eve', groups: ['system:masters'], resourceAttributes: ATTRS } };
  const answer = (await review(deps(asked), { ...SAR, body })) as { status: { allowed: boolean } };
  assert.equal(answer.status.allowed, true);
  assert.deepEqual(asked[0]?.user, { username: 'eve', uid: undefined, groups: ['system:masters'], extra: undefined });
  assert.equal(asked[0]?.resource, 'secrets');
});

test('a SelfSubjectAccessReview is about the caller, whatever user its body names', async () => {
  const asked: Attributes[] = [];
  const body = { spec: { user: 'root', groups: ['system:masters'], resourceAttributes: ATTRS } };
  const answer = (await review(deps(asked), {
    ...SAR,
    resource: 'selfsubjectaccessreviews',
    body,
  })) as { status: { allowed: boolean } };
  assert.equal(answer.status.allowed, false);
  assert.equal(asked[0]?.user, ME);
});
