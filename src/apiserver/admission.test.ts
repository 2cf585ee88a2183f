import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resourceByName } from '../api/resources.ts';
import { StatusError } from '../api/status.ts';
import { admission } from './admission.ts';
import { RbacPolicy } from './auth/rbac.ts';
import type { Attributes } from './auth/request-attributes.ts';
import type { UserInfo } from './auth/user.ts';
import type { AdmissionRequest } from './http-server.ts';

const RBAC = 'rbac.authorization.k8s.io';
const LEAD: UserInfo = { username: 'lead', groups: ['system:authenticated'] };

/** The lead may bind the ClusterRole `edit` in namespace team (a RoleBinding's grant), and nothing else. */
function chain() {
  const asked: Attributes[] = [];
  const authorize = async (a: Attributes) => {
    asked.push(a);
    const ok = a.verb === 'bind' && a.resource === 'clusterroles' && a.name === 'edit' && a.namespace === 'team';
    return { decision: ok ? ('allow' as const) : ('noOpinion' as const), reason: '' };
  };
  const policy = new RbacPolicy();
  policy.put('ClusterRole', {
    metadata: { name: 'edit' },
    rules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }],
  });
  return {
    asked,
    admit: admission({ authorizer: { authorize, policy }, lookup: async () => undefined, disabled: new Set() }),
  };
}

function bindingRequest(namespace: string | undefined, resource: string): AdmissionRequest {
  return {
    info: resourceByName(RBAC, resource)!,
    namespace,
    operation: 'CREATE',
    object: {
      metadata: { name: 'b', namespace },
      roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'edit' },
      subjects: [{ kind: 'User', apiGroup: RBAC, name: 'dev' }],
    },
    user: LEAD,
    dryRun: false,
  };
}

test('a RoleBinding to a ClusterRole is allowed by `bind` on that ClusterRole in the binding namespace', async () => {
  const { asked, admit } = chain();
  await admit(bindingRequest('team', 'rolebindings'));
  assert.deepEqual(
    asked.map((a) => [a.verb, a.resource, a.name, a.namespace]),
    [['bind', 'clusterroles', 'edit', 'team']],
  );
});

test('the same grant does not let a ClusterRoleBinding through', async () => {
  const { admit } = chain();
  await assert.rejects(
    admit(bindingRequest(undefined, 'clusterrolebindings')),
    (error: unknown) => error instanceof StatusError && error.code === 403,
  );
});
