import type { PodSpec } from 'kubernetes-types/core/v1.js';
import type { Role, RoleBinding, RoleRef } from 'kubernetes-types/rbac/v1.js';
import { forbiddenError } from '../api/status.ts';
import type { Authorizer } from './auth/authorizer.ts';
import type { ObjectLookup } from './auth/authenticator.ts';
import type { PolicyRule } from './auth/rbac.ts';
import type { Attributes } from './auth/request-attributes.ts';
import type { AdmissionRequest } from './http-server.ts';
import { randomSuffix } from '../api/names.ts';

const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** SERVICE_ACCOUNT_MOUNT is where a pod's ServiceAccount token, ca.crt and namespace appear in its containers. */
export const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface AdmissionOptions {
  authorizer?: Pick<Authorizer, 'authorize' | 'policy'>;
  lookup: ObjectLookup;
  /** Plugins named in --disable-admission-plugins (ServiceAccount). */
  disabled: ReadonlySet<string>;
}

/**
 * admission returns the API server's admission chain: ServiceAccount (a pod gets serviceAccountName `default` and,
 * unless automountServiceAccountToken is false, upstream's projected `kube-api-access-<suffix>` volume mounted at
 * /var/run/secrets/kubernetes.io/serviceaccount in every container), and RBAC's escalation check (a Role or binding
 * may grant only what its writer holds, unless the writer may `escalate` or `bind`).
 */
export function admission(o: AdmissionOptions): (request: AdmissionRequest) => Promise<void> {
  return async (request) => {
    if (
      request.info.group === '' &&
      request.info.resource === 'pods' &&
      request.operation === 'CREATE' &&
      !o.disabled.has('ServiceAccount')
    ) {
      await serviceAccountAdmission(o, request);
    }
    if (request.info.group === RBAC_GROUP && o.authorizer) await rbacEscalation(o.authorizer, request);
  };
}

async function serviceAccountAdmission(o: AdmissionOptions, request: AdmissionRequest): Promise<void> {
  const pod = request.object;
  // Only pods reach this plugin, their body decoded with the Pod schema.
  const spec = (pod.spec ??= {}) as PodSpec;
  // Mirror pods (static pods a kubelet reports) may not use ServiceAccounts.
  if (pod.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined) return;
  if (!spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount || 'default';
  spec.serviceAccount = spec.serviceAccountName;
  const sa = await o.lookup('serviceaccounts', request.namespace, spec.serviceAccountName);
  if (sa === null) {
    throw forbiddenError(
      { group: '', resource: 'pods' },
      pod.metadata?.name ?? '',
      `error looking up service account ${request.namespace}/${spec.serviceAccountName}: serviceaccount "${spec.serviceAccountName}" not found`,
    );
  }
  const automount = spec.automountServiceAccountToken ?? sa?.automountServiceAccountToken ?? true;
  if (!automount) return;
  const containers = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
  if (containers.some((c) => (c.volumeMounts ?? []).some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT))) return;
  const name = `kube-api-access-${randomSuffix(5)}`;
  spec.volumes = [
    ...(spec.volumes ?? []),
    {
      name,
      projected: {
        defaultMode: 0o644,
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          {
            downwardAPI: {
              items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
            },
          },
        ],
      },
    },
  ];
  for (const c of containers)
    c.volumeMounts = [...(c.volumeMounts ?? []), { name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT }];
}

/**
 * rbacEscalation is upstream's escalation prevention: writing a Role or ClusterRole needs `escalate` on it or every
 * permission it grants; writing a binding needs `bind` on the role it references or every permission of that role.
 */
async function rbacEscalation(
  authorizer: Pick<Authorizer, 'authorize' | 'policy'>,
  request: AdmissionRequest,
): Promise<void> {
  const { info, object, user, namespace } = request;
  const ns = namespace ?? '';
  const base: Attributes = {
    user,
    verb: '',
    resourceRequest: true,
    path: '',
    apiGroup: RBAC_GROUP,
    apiVersion: 'v1',
    resource: '',
    subresource: '',
    namespace: ns,
    name: '',
  };
  const allowed = async (a: Attributes) => (await authorizer.authorize(a)).decision === 'allow';
  let rules: PolicyRule[];
  let special: Attributes;
  if (info.resource === 'roles' || info.resource === 'clusterroles') {
    special = { ...base, verb: 'escalate', resource: info.resource, name: object.metadata?.name ?? '' };
    rules = (object as Role).rules ?? [];
  } else if (info.resource === 'rolebindings' || info.resource === 'clusterrolebindings') {
    const ref: Partial<RoleRef> = (object as Partial<RoleBinding>).roleRef ?? {};
    const refResource = ref.kind === 'Role' ? 'roles' : 'clusterroles';
    // Upstream checks `bind` in the binding's namespace whatever the role's kind: a RoleBinding that grants bind on
    // clusterroles/<name> lets its subjects bind that ClusterRole in its namespace.
    special = { ...base, verb: 'bind', resource: refResource, name: ref.name ?? '' };
    rules =
      ref.kind === 'Role'
        ? authorizer.policy.roleRules(ns, ref.name ?? '')
        : authorizer.policy.clusterRoleRules(ref.name ?? '');
    // A binding in a namespace grants the role's rules in that namespace only.
  } else {
    return;
  }
  if (await allowed(special)) return;
  const missing: string[] = [];
  for (const rule of rules) {
    for (const a of expand(rule, base)) if (!(await allowed(a))) missing.push(describe(a));
  }
  if (missing.length === 0) return;
  const name = object.metadata?.name ?? '';
  throw forbiddenError(
    { group: RBAC_GROUP, resource: info.resource },
    name,
    `user ${JSON.stringify(user.username)} (groups=${JSON.stringify(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${missing.join('\n')}`,
  );
}

/** expand turns a rule into the requests it allows (wildcards stay wildcards: only a wildcard covers them). */
function expand(rule: PolicyRule, base: Attributes): Attributes[] {
  const out: Attributes[] = [];
  if (rule.nonResourceURLs?.length) {
    for (const verb of rule.verbs)
      for (const path of rule.nonResourceURLs) out.push({ ...base, resourceRequest: false, namespace: '', verb, path });
    return out;
  }
  for (const verb of rule.verbs) {
    for (const apiGroup of rule.apiGroups ?? ['']) {
      for (const combined of rule.resources ?? []) {
        const [resource, subresource = ''] = combined.split('/');
        for (const name of rule.resourceNames?.length ? rule.resourceNames : [''])
          out.push({ ...base, verb, apiGroup, resource: resource!, subresource, name });
      }
    }
  }
  return out;
}

function describe(a: Attributes): string {
  if (!a.resourceRequest) return `{NonResourceURLs:[${a.path}], Verbs:[${a.verb}]}`;
  return `{APIGroups:[${JSON.stringify(a.apiGroup)}], Resources:[${JSON.stringify(a.subresource ? `${a.resource}/${a.subresource}` : a.resource)}], ${a.name ? `ResourceNames:[${JSON.stringify(a.name)}], ` : ''}Verbs:[${JSON.stringify(a.verb)}]}`;
}
