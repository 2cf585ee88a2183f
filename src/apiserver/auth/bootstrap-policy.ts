import type { BindingObject, PolicyRule, RoleObject, Subject } from './rbac.ts';

/**
 * The RBAC objects every cluster starts with: upstream's bootstrap policy (plugin/pkg/auth/authorizer/rbac/
 * bootstrappolicy), names and rules as upstream has them, for what tskube serves and runs. The API server creates
 * the missing ones at every start (annotated `rbac.authorization.kubernetes.io/autoupdate: "true"`).
 */

const READ = ['get', 'list', 'watch'];
const READ_WRITE = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];

function r(verbs: string[], groups: string[], resources: string[], names?: string[]): PolicyRule {
  return names
    ? { verbs, apiGroups: groups, resources, resourceNames: names }
    : { verbs, apiGroups: groups, resources };
}

function urls(verbs: string[], paths: string[]): PolicyRule {
  return { verbs, nonResourceURLs: paths };
}

const META = {
  labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' },
  annotations: { 'rbac.authorization.kubernetes.io/autoupdate': 'true' },
};

function clusterRole(
  name: string,
  rules: PolicyRule[],
  extra: { labels?: Record<string, string>; aggregateTo?: string } = {},
): RoleObject {
  const labels = { ...META.labels, ...(extra.labels ?? {}) };
  const role: RoleObject & { metadata: { annotations: Record<string, string> } } = {
    metadata: { name, labels, annotations: META.annotations },
    rules,
  };
  if (extra.aggregateTo)
    role.aggregationRule = {
      clusterRoleSelectors: [
        { matchLabels: { [`rbac.authorization.k8s.io/aggregate-to-${extra.aggregateTo}`]: 'true' } },
      ],
    };
  return role;
}

const events = r(['create', 'update', 'patch'], ['', 'events.k8s.io'], ['events']);

const VIEW_CORE = [
  'pods',
  'replicationcontrollers',
  'replicationcontrollers/scale',
  'serviceaccounts',
  'services',
  'services/status',
  'endpoints',
  'persistentvolumeclaims',
  'persistentvolumeclaims/status',
  'configmaps',
  'bindings',
  'events',
  'limitranges',
  'namespaces/status',
  'pods/log',
  'pods/status',
  'replicationcontrollers/status',
  'resourcequotas',
  'resourcequotas/status',
  'namespaces',
];
const VIEW_APPS = [
  'controllerrevisions',
  'daemonsets',
  'daemonsets/status',
  'deployments',
  'deployments/scale',
  'deployments/status',
  'replicasets',
  'replicasets/scale',
  'replicasets/status',
  'statefulsets',
  'statefulsets/scale',
  'statefulsets/status',
];

/** Roles the controllers of kube-controller-manager run with (`--use-service-account-credentials`), by ServiceAccount name. */
const CONTROLLER_ROLES: Record<string, PolicyRule[]> = {
  'deployment-controller': [
    r(['get', 'list', 'watch', 'update'], ['apps', 'extensions'], ['deployments']),
    r(['update'], ['apps', 'extensions'], ['deployments/status']),
    r(['update'], ['apps', 'extensions'], ['deployments/finalizers']),
    r(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], ['apps', 'extensions'], ['replicasets']),
    r(['get', 'list', 'watch', 'update'], [''], ['pods']),
    events,
  ],
  'replicaset-controller': [
    r(['get', 'list', 'watch', 'update'], ['apps', 'extensions'], ['replicasets']),
    r(['update'], ['apps', 'extensions'], ['replicasets/status']),
    r(['update'], ['apps', 'extensions'], ['replicasets/finalizers']),
    r(['list', 'watch', 'patch', 'create', 'delete'], [''], ['pods']),
    events,
  ],
  'replication-controller': [
    r(['get', 'list', 'watch', 'update'], [''], ['replicationcontrollers']),
    r(['update'], [''], ['replicationcontrollers/status']),
    r(['update'], [''], ['replicationcontrollers/finalizers']),
    r(['list', 'watch', 'patch', 'create', 'delete'], [''], ['pods']),
    events,
  ],
  'endpoint-controller': [
    r(['get', 'list', 'watch'], [''], ['services', 'pods']),
    r(['get', 'list', 'create', 'update', 'delete'], [''], ['endpoints']),
    r(['create'], [''], ['endpoints/restricted']),
    events,
  ],
  'endpointslice-controller': [
    r(['get', 'list', 'watch'], [''], ['services', 'pods', 'nodes']),
    r(['update'], [''], ['services/finalizers']),
    r(['create', 'delete', 'get', 'list', 'update'], ['discovery.k8s.io'], ['endpointslices']),
    events,
  ],
  'endpointslicemirroring-controller': [
    r(['get', 'list', 'watch'], [''], ['services', 'endpoints']),
    r(['update'], [''], ['services/finalizers', 'endpoints/finalizers']),
    r(['create', 'delete', 'get', 'list', 'update'], ['discovery.k8s.io'], ['endpointslices']),
    events,
  ],
  'node-controller': [
    r(['get', 'list', 'update', 'delete', 'patch'], [''], ['nodes']),
    r(['patch', 'update'], [''], ['nodes/status']),
    r(['patch', 'update'], [''], ['pods/status']),
    r(['list', 'delete'], [''], ['pods']),
    r(['get'], [''], ['pods']),
    events,
  ],
  'generic-garbage-collector': [r(['get', 'list', 'watch', 'patch', 'update', 'delete'], ['*'], ['*'])],
  'namespace-controller': [
    r(['get', 'list', 'watch', 'delete'], [''], ['namespaces']),
    r(['update'], [''], ['namespaces/finalize', 'namespaces/status']),
    r(['get', 'list', 'delete', 'deletecollection'], ['*'], ['*']),
  ],
  'service-account-controller': [r(['create'], [''], ['serviceaccounts']), events],
  'job-controller': [
    r(['get', 'list', 'watch', 'update', 'patch'], ['batch'], ['jobs']),
    r(['update', 'patch'], ['batch'], ['jobs/status']),
    r(['update'], ['batch'], ['jobs/finalizers']),
    r(['list', 'watch', 'create', 'delete', 'patch'], [''], ['pods']),
    events,
  ],
  'cronjob-controller': [
    r(['get', 'list', 'watch', 'update'], ['batch'], ['cronjobs']),
    r(['get', 'list', 'watch', 'create', 'update', 'delete', 'patch'], ['batch'], ['jobs']),
    r(['update'], ['batch'], ['cronjobs/status']),
    r(['update'], ['batch'], ['cronjobs/finalizers']),
    r(['list', 'delete'], [''], ['pods']),
    events,
  ],
  'daemon-set-controller': [
    r(['get', 'list', 'watch'], ['apps', 'extensions'], ['daemonsets']),
    r(['update'], ['apps', 'extensions'], ['daemonsets/status']),
    r(['update'], ['apps', 'extensions'], ['daemonsets/finalizers']),
    r(['list', 'watch'], [''], ['nodes']),
    r(['list', 'watch', 'create', 'delete', 'patch'], [''], ['pods']),
    r(['create'], [''], ['pods/binding']),
    r(['get', 'list', 'watch', 'create', 'delete', 'update', 'patch'], ['apps'], ['controllerrevisions']),
    events,
  ],
  'root-ca-cert-publisher': [r(['create', 'update'], [''], ['configmaps']), events],
  'ttl-after-finished-controller': [r(['get', 'list', 'watch', 'delete'], ['batch'], ['jobs']), events],
};

/** NODE_RULES is system:node's rules: what the Node authorizer allows a kubelet outside its graph checks. */
export const NODE_RULES: PolicyRule[] = [
  r(['create'], ['authentication.k8s.io'], ['tokenreviews']),
  r(['create'], ['authorization.k8s.io'], ['subjectaccessreviews', 'localsubjectaccessreviews']),
  r(READ, [''], ['services']),
  r(['create', 'get', 'list', 'watch'], [''], ['nodes']),
  r(['update', 'patch'], [''], ['nodes/status']),
  r(['update', 'patch'], [''], ['nodes']),
  r(['create', 'update', 'patch'], [''], ['events']),
  r(READ, [''], ['pods']),
  r(['create', 'delete'], [''], ['pods']),
  r(['update', 'patch'], [''], ['pods/status']),
  r(['create'], [''], ['pods/eviction']),
  r(['get', 'list', 'watch'], [''], ['secrets', 'configmaps']),
  r(['get'], [''], ['persistentvolumeclaims', 'persistentvolumes']),
  r(['get'], [''], ['endpoints']),
  r(['create', 'get', 'list', 'watch'], ['certificates.k8s.io'], ['certificatesigningrequests']),
  r(['get', 'create', 'update', 'patch', 'delete'], ['coordination.k8s.io'], ['leases']),
  r(['get'], ['storage.k8s.io'], ['volumeattachments']),
  r(['create'], [''], ['serviceaccounts/token']),
  r(READ, ['node.k8s.io'], ['runtimeclasses']),
];

/** CLUSTER_ROLES is upstream's bootstrap ClusterRoles (those tskube has a use for). */
export const CLUSTER_ROLES: RoleObject[] = [
  clusterRole('cluster-admin', [r(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
  clusterRole('system:discovery', [
    urls(
      ['get'],
      [
        '/api',
        '/api/*',
        '/apis',
        '/apis/*',
        '/healthz',
        '/livez',
        '/openapi',
        '/openapi/*',
        '/readyz',
        '/version',
        '/version/',
      ],
    ),
  ]),
  clusterRole('system:monitoring', [
    urls(
      ['get'],
      ['/healthz', '/healthz/*', '/livez', '/livez/*', '/metrics', '/metrics/slis', '/readyz', '/readyz/*'],
    ),
  ]),
  clusterRole('system:basic-user', [
    r(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
    r(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
  ]),
  clusterRole('system:public-info-viewer', [urls(['get'], ['/healthz', '/livez', '/readyz', '/version', '/version/'])]),
  clusterRole('admin', [], { aggregateTo: 'admin' }),
  clusterRole('edit', [], { aggregateTo: 'edit', labels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' } }),
  clusterRole('view', [], { aggregateTo: 'view', labels: { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' } }),
  clusterRole(
    'system:aggregate-to-admin',
    [
      r(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
      r(READ_WRITE, ['rbac.authorization.k8s.io'], ['roles', 'rolebindings']),
    ],
    { labels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' } },
  ),
  clusterRole(
    'system:aggregate-to-edit',
    [
      r(READ, [''], ['pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward', 'secrets', 'services/proxy']),
      r(['impersonate'], [''], ['serviceaccounts']),
      r(WRITE, [''], ['pods', 'pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward']),
      r(['create'], [''], ['pods/eviction']),
      r(
        WRITE,
        [''],
        [
          'replicationcontrollers',
          'replicationcontrollers/scale',
          'secrets',
          'serviceaccounts',
          'services',
          'services/proxy',
          'persistentvolumeclaims',
          'configmaps',
          'endpoints',
        ],
      ),
      r(['create'], [''], ['serviceaccounts/token']),
      r(
        WRITE,
        ['apps'],
        [
          'daemonsets',
          'deployments',
          'deployments/rollback',
          'deployments/scale',
          'replicasets',
          'replicasets/scale',
          'statefulsets',
          'statefulsets/scale',
        ],
      ),
      r(WRITE, ['autoscaling'], ['horizontalpodautoscalers']),
      r(WRITE, ['batch'], ['jobs', 'cronjobs']),
      r(WRITE, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
      r(WRITE, ['policy'], ['poddisruptionbudgets']),
      r(WRITE, ['coordination.k8s.io'], ['leases']),
    ],
    { labels: { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' } },
  ),
  clusterRole(
    'system:aggregate-to-view',
    [
      r(READ, [''], VIEW_CORE),
      r(READ, ['apps'], VIEW_APPS),
      r(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
      r(READ, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
      r(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
      r(READ, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
      r(READ, ['discovery.k8s.io'], ['endpointslices']),
      r(READ, ['coordination.k8s.io'], ['leases']),
    ],
    { labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } },
  ),
  clusterRole('system:node', NODE_RULES),
  clusterRole('system:node-proxier', [
    r(['list', 'watch'], [''], ['services', 'endpoints']),
    r(['get', 'list', 'watch'], [''], ['nodes']),
    r(['create', 'patch', 'update'], ['', 'events.k8s.io'], ['events']),
    r(['list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
  ]),
  clusterRole('system:kube-scheduler', [
    events,
    r(['create'], ['coordination.k8s.io'], ['leases']),
    r(['get', 'update'], ['coordination.k8s.io'], ['leases'], ['kube-scheduler']),
    r(['create'], [''], ['endpoints']),
    r(['get', 'update'], [''], ['endpoints'], ['kube-scheduler']),
    r(READ, [''], ['nodes']),
    r(['get', 'list', 'watch', 'delete'], [''], ['pods']),
    r(['create'], [''], ['bindings', 'pods/binding']),
    r(['patch', 'update'], [''], ['pods/status']),
    r(READ, [''], ['replicationcontrollers', 'services']),
    r(READ, ['apps', 'extensions'], ['replicasets']),
    r(READ, ['apps'], ['statefulsets']),
    r(READ, ['policy'], ['poddisruptionbudgets']),
    r(READ, [''], ['persistentvolumeclaims', 'persistentvolumes']),
    r(['create'], ['authentication.k8s.io'], ['tokenreviews']),
    r(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    r(READ, ['storage.k8s.io'], ['csinodes', 'csidrivers', 'csistoragecapacities', 'storageclasses']),
    r(['list', 'watch'], [''], ['namespaces']),
  ]),
  clusterRole('system:kube-controller-manager', [
    events,
    r(['create'], ['coordination.k8s.io'], ['leases']),
    r(['get', 'update'], ['coordination.k8s.io'], ['leases'], ['kube-controller-manager']),
    r(['create'], [''], ['secrets', 'serviceaccounts']),
    r(['delete'], [''], ['secrets']),
    r(['get'], [''], ['configmaps', 'namespaces', 'secrets', 'serviceaccounts']),
    r(['update'], [''], ['secrets', 'serviceaccounts']),
    r(['create'], ['authentication.k8s.io'], ['tokenreviews']),
    r(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    r(['list', 'watch'], ['*'], ['*']),
    r(['create'], [''], ['serviceaccounts/token']),
  ]),
  clusterRole('system:kube-dns', [r(['list', 'watch'], [''], ['endpoints', 'services'])]),
  clusterRole('system:kubelet-api-admin', [
    r(['get', 'list', 'watch'], [''], ['nodes']),
    r(['proxy'], [''], ['nodes']),
    r(['*'], [''], ['nodes/log', 'nodes/metrics', 'nodes/proxy', 'nodes/stats']),
  ]),
  clusterRole('system:auth-delegator', [
    r(['create'], ['authentication.k8s.io'], ['tokenreviews']),
    r(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
  ]),
  clusterRole('system:service-account-issuer-discovery', [
    urls(
      ['get'],
      [
        '/.well-known/openid-configuration',
        '/.well-known/openid-configuration/',
        '/openid/v1/jwks',
        '/openid/v1/jwks/',
      ],
    ),
  ]),
  ...Object.entries(CONTROLLER_ROLES).map(([name, rules]) => clusterRole(`system:controller:${name}`, rules)),
];

function binding(
  name: string,
  role: string,
  subjects: Subject[],
  namespace?: string,
  roleKind: 'Role' | 'ClusterRole' = 'ClusterRole',
): BindingObject {
  const metadata = { name, labels: META.labels, annotations: META.annotations, ...(namespace ? { namespace } : {}) };
  return { metadata, subjects, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: role } };
}

const group = (name: string): Subject => ({ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name });
const user = (name: string): Subject => ({ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name });
const serviceAccount = (namespace: string, name: string): Subject => ({ kind: 'ServiceAccount', name, namespace });

/** CLUSTER_ROLE_BINDINGS binds the bootstrap roles as upstream does (system:node is bound to no one: the Node authorizer serves nodes). */
export const CLUSTER_ROLE_BINDINGS: BindingObject[] = [
  binding('cluster-admin', 'cluster-admin', [group('system:masters')]),
  binding('system:discovery', 'system:discovery', [group('system:authenticated')]),
  binding('system:basic-user', 'system:basic-user', [group('system:authenticated')]),
  binding('system:public-info-viewer', 'system:public-info-viewer', [
    group('system:authenticated'),
    group('system:unauthenticated'),
  ]),
  binding('system:monitoring', 'system:monitoring', [group('system:monitoring')]),
  binding('system:node', 'system:node', []),
  binding('system:node-proxier', 'system:node-proxier', [user('system:kube-proxy')]),
  binding('system:kube-controller-manager', 'system:kube-controller-manager', [user('system:kube-controller-manager')]),
  binding('system:kube-scheduler', 'system:kube-scheduler', [user('system:kube-scheduler')]),
  binding('system:kube-dns', 'system:kube-dns', [serviceAccount('kube-system', 'kube-dns')]),
  binding('system:service-account-issuer-discovery', 'system:service-account-issuer-discovery', [
    group('system:serviceaccounts'),
  ]),
  ...Object.keys(CONTROLLER_ROLES).map((name) =>
    binding(`system:controller:${name}`, `system:controller:${name}`, [serviceAccount('kube-system', name)]),
  ),
];

/** ROLES are upstream's namespaced bootstrap Roles (leader election of the scheduler and controller manager). */
export const ROLES: RoleObject[] = [
  {
    metadata: { name: 'extension-apiserver-authentication-reader', namespace: 'kube-system', labels: META.labels },
    rules: [r(READ, [''], ['configmaps'], ['extension-apiserver-authentication'])],
  },
  {
    metadata: { name: 'system::leader-locking-kube-controller-manager', namespace: 'kube-system', labels: META.labels },
    rules: [
      r(['watch'], [''], ['configmaps']),
      r(['get', 'update'], [''], ['configmaps'], ['kube-controller-manager']),
    ],
  },
  {
    metadata: { name: 'system::leader-locking-kube-scheduler', namespace: 'kube-system', labels: META.labels },
    rules: [r(['watch'], [''], ['configmaps']), r(['get', 'update'], [''], ['configmaps'], ['kube-scheduler'])],
  },
];

export const ROLE_BINDINGS: BindingObject[] = [
  binding(
    'system::leader-locking-kube-controller-manager',
    'system::leader-locking-kube-controller-manager',
    [user('system:kube-controller-manager'), serviceAccount('kube-system', 'kube-controller-manager')],
    'kube-system',
    'Role',
  ),
  binding(
    'system::leader-locking-kube-scheduler',
    'system::leader-locking-kube-scheduler',
    [user('system:kube-scheduler'), serviceAccount('kube-system', 'kube-scheduler')],
    'kube-system',
    'Role',
  ),
];

/** CONTROLLER_SERVICE_ACCOUNTS names the ServiceAccounts (in kube-system) the controllers run as. */
export const CONTROLLER_SERVICE_ACCOUNTS: readonly string[] = Object.keys(CONTROLLER_ROLES);
