import type { TokenRequest, TokenReview, SelfSubjectReview } from 'kubernetes-types/authentication/v1.js';
import type {
  SelfSubjectAccessReview,
  SelfSubjectRulesReview,
  SubjectAccessReview,
  SubjectAccessReviewSpec,
} from 'kubernetes-types/authorization/v1.js';
import { badRequest, invalid, notFound, type StatusCause } from '../../api/status.ts';
import type { Decoded } from '../per-kind.ts';
import { TypeMismatch, decodeKind } from '../validation/typed-decode.ts';
import type { Authenticator, ObjectLookup } from './authenticator.ts';
import type { Authorizer } from './authorizer.ts';
import { NODE_RULES } from './bootstrap-policy.ts';
import { nodeNameOf } from './node-authorizer.ts';
import type { PolicyRule } from './rbac.ts';
import { type Attributes, nonResourceAttributes } from './request-attributes.ts';
import type { ServiceAccountTokens } from './service-account-tokens.ts';
import type { UserInfo } from './user.ts';
import { timestamp } from '../../api/time.ts';

/** REVIEW_KINDS are the create-only kinds answered from authentication and authorization state, never stored. */
export const REVIEW_RESOURCES: Record<string, string> = {
  'authentication.k8s.io/tokenreviews': 'TokenReview',
  'authentication.k8s.io/selfsubjectreviews': 'SelfSubjectReview',
  'authorization.k8s.io/subjectaccessreviews': 'SubjectAccessReview',
  'authorization.k8s.io/selfsubjectaccessreviews': 'SelfSubjectAccessReview',
  'authorization.k8s.io/localsubjectaccessreviews': 'LocalSubjectAccessReview',
  'authorization.k8s.io/selfsubjectrulesreviews': 'SelfSubjectRulesReview',
};

/** Versions served for the review kinds: kubectl 1.27's `auth whoami` asks for SelfSubjectReview in v1beta1 first. */
export const REVIEW_VERSIONS = ['v1', 'v1beta1', 'v1alpha1'];

export interface ReviewDeps {
  authenticator: Pick<Authenticator, 'authenticateToken'>;
  authorizer: Pick<Authorizer, 'authorize' | 'policy'>;
  tokens?: ServiceAccountTokens;
  lookup: ObjectLookup;
}

const MIN_TOKEN_SECONDS = 600;
const DEFAULT_TOKEN_SECONDS = 3600;

/**
 * review answers a POST of one review kind: TokenReview (who a token is), SelfSubjectReview (who I am:
 * `kubectl auth whoami`), SubjectAccessReview, LocalSubjectAccessReview and SelfSubjectAccessReview (may this user do
 * that: `kubectl auth can-i`), SelfSubjectRulesReview (`kubectl auth can-i --list`).
 */
export async function review(
  deps: ReviewDeps,
  o: { group: string; version: string; resource: string; namespace?: string; body: unknown; user: UserInfo },
): Promise<object> {
  const kind = REVIEW_RESOURCES[`${o.group}/${o.resource}`]!;
  const base = {
    kind,
    apiVersion: `${o.group}/${o.version}`,
    metadata: { creationTimestamp: null, ...(o.namespace ? { namespace: o.namespace } : {}) },
  };
  // The older versions served have v1's fields (as far as these reviews read them): bodies decode with v1's schema.
  const decode = <T>(): Decoded<T> => decodeBody<T>(`${o.group}/v1`, o.version, kind, o.body);
  switch (kind) {
    case 'TokenReview': {
      const spec = decode<TokenReview>().spec ?? {};
      if (typeof spec.token !== 'string' || spec.token === '')
        throw invalid({ group: o.group, kind }, '', [
          {
            reason: 'FieldValueRequired',
            field: 'spec.token',
            message: 'Required value: token must not be empty',
          } as StatusCause,
        ]);
      const audiences: string[] | undefined =
        Array.isArray(spec.audiences) && spec.audiences.length ? spec.audiences : undefined;
      const result = await deps.authenticator.authenticateToken(spec.token, audiences);
      const status =
        'user' in result
          ? {
              authenticated: true,
              user: wireUser(result.user),
              audiences: result.audiences ?? audiences ?? deps.tokens?.apiAudiences ?? [],
            }
          : { user: {}, error: result.error };
      return { ...base, spec: { ...spec, token: spec.token }, status };
    }
    case 'SelfSubjectReview':
      decode<SelfSubjectReview>();
      return { ...base, status: { userInfo: wireUser(o.user) } };
    case 'SubjectAccessReview':
    case 'LocalSubjectAccessReview':
    case 'SelfSubjectAccessReview': {
      // A LocalSubjectAccessReview has a SubjectAccessReview's fields; a SelfSubjectAccessReview fewer of them.
      const spec: Decoded<SubjectAccessReviewSpec> =
        (kind === 'SelfSubjectAccessReview' ? decode<SelfSubjectAccessReview>() : decode<SubjectAccessReview>()).spec ??
        {};
      let subject: UserInfo = o.user;
      if (kind !== 'SelfSubjectAccessReview') {
        if (!spec.user && !spec.groups?.length)
          throw invalid({ group: o.group, kind }, '', [
            {
              reason: 'FieldValueRequired',
              field: 'spec.user',
              message: 'Invalid value: "": at least one of user or group must be specified',
            },
          ]);
        subject = { username: spec.user ?? '', uid: spec.uid, groups: spec.groups ?? [], extra: spec.extra };
      }
      const ra = spec.resourceAttributes;
      const nra = spec.nonResourceAttributes;
      if (!ra && !nra)
        throw invalid({ group: o.group, kind }, '', [
          {
            reason: 'FieldValueRequired',
            field: 'spec.resourceAttributes',
            message: 'Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified',
          },
        ]);
      if (kind === 'LocalSubjectAccessReview' && ra && (ra.namespace ?? '') !== o.namespace) {
        throw invalid({ group: o.group, kind }, '', [
          {
            reason: 'FieldValueInvalid',
            field: 'spec.resourceAttributes.namespace',
            message: `Invalid value: "${ra.namespace ?? ''}": must match metadata.namespace`,
          },
        ]);
      }
      const attrs: Attributes = ra
        ? {
            user: subject,
            verb: ra.verb ?? '',
            resourceRequest: true,
            path: '',
            apiGroup: ra.group ?? '',
            apiVersion: ra.version ?? '',
            resource: ra.resource ?? '',
            subresource: ra.subresource ?? '',
            namespace: ra.namespace ?? '',
            name: ra.name ?? '',
          }
        : nonResourceAttributes(subject, nra?.verb ?? '', nra?.path ?? '');
      const d = await deps.authorizer.authorize(attrs);
      const status: Record<string, unknown> = { allowed: d.decision === 'allow' };
      if (d.decision === 'deny') status.denied = true;
      if (d.reason) status.reason = d.reason;
      return { ...base, spec, status };
    }
    case 'SelfSubjectRulesReview': {
      const spec = decode<SelfSubjectRulesReview>().spec ?? {};
      const namespace = spec.namespace;
      if (typeof namespace !== 'string' || namespace === '') throw badRequest('no namespace on request');
      const rules = o.user.groups.includes('system:masters')
        ? [
            { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
            { verbs: ['*'], nonResourceURLs: ['*'] },
          ]
        : [...(nodeNameOf(o.user) ? NODE_RULES : []), ...deps.authorizer.policy.rulesFor(o.user, namespace)];
      return {
        ...base,
        spec,
        status: {
          resourceRules: rules.filter((r) => !r.nonResourceURLs).map(resourceRule),
          nonResourceRules: rules
            .filter((r) => r.nonResourceURLs)
            .map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs })),
          incomplete: false,
        },
      };
    }
  }
  throw notFound({ group: o.group, resource: o.resource }, '');
}

function resourceRule(r: PolicyRule): object {
  return {
    verbs: r.verbs,
    apiGroups: r.apiGroups ?? [],
    resources: r.resources ?? [],
    ...(r.resourceNames?.length ? { resourceNames: r.resourceNames } : {}),
  };
}

/** wireUser is UserInfo as the API writes it (no empty uid or extra). */
export function wireUser(user: UserInfo): object {
  return {
    username: user.username,
    ...(user.uid ? { uid: user.uid } : {}),
    groups: user.groups,
    ...(user.extra && Object.keys(user.extra).length ? { extra: user.extra } : {}),
  };
}

/**
 * tokenRequest answers POST serviceaccounts/<name>/token (`kubectl create token`): a token for the ServiceAccount,
 * for the audiences asked (default: the API's), valid expirationSeconds (default 1h, at least 10 minutes), bound to a
 * Pod or Secret when boundObjectRef names one (the object must exist with that uid).
 */
export async function tokenRequest(
  deps: ReviewDeps,
  o: { namespace: string; name: string; body: unknown },
): Promise<object> {
  const tokens = deps.tokens;
  if (!tokens?.canIssue) throw notFound({ group: '', resource: 'serviceaccounts/token' }, o.name);
  const spec = decodeBody<TokenRequest>('authentication.k8s.io/v1', 'v1', 'TokenRequest', o.body).spec ?? {};
  const sa = await deps.lookup('serviceaccounts', o.namespace, o.name);
  if (sa === null) throw notFound({ group: '', resource: 'serviceaccounts' }, o.name);
  const expirationSeconds = spec.expirationSeconds ?? DEFAULT_TOKEN_SECONDS;
  const causes: StatusCause[] = [];
  if (!Number.isInteger(expirationSeconds) || expirationSeconds < MIN_TOKEN_SECONDS)
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'spec.expirationSeconds',
      message: `Invalid value: ${expirationSeconds}: may not specify a duration less than 10 minutes`,
    });
  if (expirationSeconds > 2 ** 32)
    causes.push({
      reason: 'FieldValueTooLong',
      field: 'spec.expirationSeconds',
      message: `Invalid value: ${expirationSeconds}: may not specify a duration larger than 2^32 seconds`,
    });
  const audiences = spec.audiences?.length ? spec.audiences : tokens.apiAudiences;
  const ref = spec.boundObjectRef;
  let boundObject: { kind: 'Pod' | 'Secret'; name: string; uid: string } | undefined;
  let node: { name: string; uid: string } | undefined;
  if (ref) {
    if (ref.kind !== 'Pod' && ref.kind !== 'Secret')
      causes.push({
        reason: 'FieldValueNotSupported',
        field: 'spec.boundObjectRef.kind',
        message: `Unsupported value: "${ref.kind}": supported values: "Pod", "Secret"`,
      });
    else {
      const name = ref.name ?? '';
      const object =
        ref.kind === 'Pod'
          ? await deps.lookup('pods', o.namespace, name)
          : await deps.lookup('secrets', o.namespace, name);
      if (!object) throw notFound({ group: '', resource: ref.kind === 'Pod' ? 'pods' : 'secrets' }, name);
      if (ref.uid && ref.uid !== object.metadata.uid) throw conflictUid(ref.kind, name, ref.uid, object.metadata.uid);
      boundObject = { kind: ref.kind, name, uid: object.metadata.uid };
      const nodeName = 'spec' in object ? object.spec?.nodeName : undefined;
      if (nodeName) {
        const n = await deps.lookup('nodes', undefined, nodeName);
        if (n) node = { name: n.metadata.name, uid: n.metadata.uid };
      }
    }
  }
  if (causes.length) throw invalid({ group: 'authentication.k8s.io', kind: 'TokenRequest' }, o.name, causes);
  const { token, expiresAt } = await tokens.issue({
    namespace: o.namespace,
    serviceAccount: { name: o.name, uid: sa?.metadata?.uid ?? '' },
    audiences,
    expirationSeconds,
    boundObject,
    node,
  });
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name: o.name, namespace: o.namespace, creationTimestamp: null },
    spec: { audiences, expirationSeconds, boundObjectRef: ref ?? null },
    status: { token, expirationTimestamp: timestamp(expiresAt * 1000) },
  };
}

/**
 * decodeBody reads a review or TokenRequest body with its kind's schema; a value of the wrong type is a 400 with
 * the Go decoder's words, as for any other body.
 */
function decodeBody<T>(apiVersion: string, version: string, kind: string, body: unknown): Decoded<T> {
  try {
    return decodeKind<T>(apiVersion, kind, body);
  } catch (error) {
    if (!(error instanceof TypeMismatch)) throw error;
    throw badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: ${error.message}`);
  }
}

function conflictUid(kind: string, name: string, wanted: string, actual: string) {
  return badRequest(
    `the UID in the bound object reference (${wanted}) does not match the UID in record. The object might have been deleted and then recreated (${kind} ${name} has ${actual})`,
  );
}
