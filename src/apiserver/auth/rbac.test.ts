/**
 * RBAC rule matching and request attributes, as upstream's RuleAllows and RequestInfoFactory. Conventions: users are
 * plain objects; `attrs()` reads a request the way the API server does.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLUSTER_ROLES, CLUSTER_ROLE_BINDINGS } from './bootstrap-policy.ts';
import { RbacPolicy, ruleAllows } from './rbac.ts';
import { forbiddenMessage, requestAttributes } from './request-attributes.ts';

const alice = { username: 'alice', groups: ['devs', 'system:authenticated'] };
const attrs = (method: string, path: string, user = alice, upgrade = false) =>
  requestAttributes(user, method, new URL(path, 'https://x'), { upgrade });

test('requestAttributes() reads verbs, resources, subresources and names as upstream', () => {
  const list = attrs('GET', '/api/v1/namespaces/team/pods');
  assert.deepEqual([list.verb, list.resource, list.namespace, list.name], ['list', 'pods', 'team', '']);
  assert.equal(attrs('GET', '/api/v1/pods?watch=true').verb, 'watch');
  assert.equal(attrs('DELETE', '/apis/apps/v1/namespaces/team/deployments').verb, 'deletecollection');
  const log = attrs('GET', '/api/v1/namespaces/team/pods/web/log');
  assert.deepEqual([log.verb, log.resource, log.subresource, log.name], ['get', 'pods', 'log', 'web']);
  assert.equal(
    attrs('GET', '/api/v1/namespaces/team/pods/web/exec', alice, true).verb,
    'create',
    'websocket exec needs create',
  );
  const ns = attrs('PUT', '/api/v1/namespaces/team/finalize');
  assert.deepEqual([ns.resource, ns.name, ns.subresource, ns.namespace], ['namespaces', 'team', 'finalize', 'team']);
  const one = attrs(
    'GET',
    '/api/v1/namespaces/kube-system/configmaps?fieldSelector=metadata.name%3Dkube-root-ca.crt&watch=1',
  );
  assert.deepEqual([one.verb, one.name], ['watch', 'kube-root-ca.crt']);
  const path = attrs('GET', '/healthz');
  assert.deepEqual([path.resourceRequest, path.verb, path.path], [false, 'get', '/healthz']);
  assert.equal(
    forbiddenMessage(attrs('DELETE', '/api/v1/nodes/n1')),
    'User "alice" cannot delete resource "nodes" in API group "" at the cluster scope',
  );
});

test('ruleAllows() matches wildcards, subresources, resourceNames and non-resource URLs', () => {
  const get = attrs('GET', '/api/v1/namespaces/team/pods/web');
  assert.ok(ruleAllows(get, { verbs: ['get'], apiGroups: [''], resources: ['pods'] }));
  assert.ok(!ruleAllows(get, { verbs: ['get'], apiGroups: ['apps'], resources: ['pods'] }));
  assert.ok(ruleAllows(get, { verbs: ['*'], apiGroups: ['*'], resources: ['*'] }));
  assert.ok(!ruleAllows(get, { verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['db'] }));
  const scale = attrs('PATCH', '/apis/apps/v1/namespaces/team/deployments/web/scale');
  assert.ok(
    !ruleAllows(scale, { verbs: ['patch'], apiGroups: ['apps'], resources: ['deployments'] }),
    'a resource rule does not cover its subresources',
  );
  assert.ok(ruleAllows(scale, { verbs: ['patch'], apiGroups: ['apps'], resources: ['*/scale'] }));
  assert.ok(ruleAllows(attrs('GET', '/apis/apps/v1'), { verbs: ['get'], nonResourceURLs: ['/apis/*'] }));
  assert.ok(!ruleAllows(attrs('GET', '/metrics'), { verbs: ['get'], nonResourceURLs: ['/healthz'] }));
});

test('RbacPolicy with the bootstrap policy: discovery for authenticated users, aggregation into view/edit/admin', () => {
  const policy = new RbacPolicy();
  for (const r of CLUSTER_ROLES) policy.put('ClusterRole', structuredClone(r));
  for (const b of CLUSTER_ROLE_BINDINGS) policy.put('ClusterRoleBinding', structuredClone(b));
  const anonymous = { username: 'system:anonymous', groups: ['system:unauthenticated'] };
  assert.ok(policy.allows(attrs('GET', '/version', anonymous)));
  assert.equal(policy.allows(attrs('GET', '/api', anonymous)), undefined);
  assert.ok(policy.allows(attrs('GET', '/api', alice)));
  assert.equal(policy.allows(attrs('GET', '/api/v1/namespaces/team/pods')), undefined);
  policy.put('RoleBinding', {
    metadata: { name: 'alice-edit', namespace: 'team' },
    subjects: [{ kind: 'User', name: 'alice' }],
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
  });
  assert.ok(
    policy.allows(attrs('POST', '/apis/apps/v1/namespaces/team/deployments')),
    'edit aggregates system:aggregate-to-edit',
  );
  assert.ok(policy.allows(attrs('GET', '/api/v1/namespaces/team/pods/web/log')), 'edit aggregates view');
  assert.equal(
    policy.allows(attrs('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings')),
    undefined,
    'only admin writes bindings',
  );
  assert.equal(policy.allows(attrs('GET', '/api/v1/namespaces/other/pods')), undefined);
  const robot = {
    username: 'system:serviceaccount:team:robot',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'],
  };
  policy.put('RoleBinding', {
    metadata: { name: 'robot', namespace: 'team' },
    subjects: [{ kind: 'ServiceAccount', name: 'robot' }],
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
  });
  assert.ok(
    policy.allows(attrs('GET', '/api/v1/namespaces/team/pods', robot)),
    "a ServiceAccount subject without namespace means the binding's",
  );
  assert.equal(policy.allows(attrs('DELETE', '/api/v1/nodes/n1', robot)), undefined);
});
