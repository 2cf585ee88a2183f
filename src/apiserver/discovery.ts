import { RESOURCES, groupVersion, type ResourceInfo } from '../api/resources.ts';

/**
 * Discovery documents, built once from the RESOURCES table: legacy (/api, /apis, /api/v1, /apis/<gv>) and aggregated
 * (apidiscovery.k8s.io v2 and v2beta1, which kubectl accepts only with the exact content type).
 */
export const AGGREGATED_CONTENT_TYPE = {
  v2: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
  v2beta1: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
} as const;

/** SUBRESOURCE_KINDS gives the response kind of a subresource when it differs from the parent's. */
const SUBRESOURCE_KIND: Record<string, { group: string; version: string; kind: string; verbs: string[] }> = {
  scale: { group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] },
  binding: { group: '', version: 'v1', kind: 'Binding', verbs: ['create'] },
  eviction: { group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] },
  log: { group: '', version: 'v1', kind: 'Pod', verbs: ['get'] },
  exec: { group: '', version: 'v1', kind: 'PodExecOptions', verbs: ['create', 'get'] },
  attach: { group: '', version: 'v1', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
  portforward: { group: '', version: 'v1', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
  proxy: { group: '', version: 'v1', kind: 'NodeProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  finalize: { group: '', version: 'v1', kind: 'Namespace', verbs: ['update'] },
  token: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] },
};

function groups(): { group: string; version: string; resources: ResourceInfo[] }[] {
  const map = new Map<string, { group: string; version: string; resources: ResourceInfo[] }>();
  for (const r of RESOURCES) {
    const key = groupVersion(r);
    if (!map.has(key)) map.set(key, { group: r.group, version: r.version, resources: [] });
    map.get(key)!.resources.push(r);
  }
  return [...map.values()];
}

/** legacyApiVersions answers GET /api. */
export function legacyApiVersions(serverAddress: string): object {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

/** legacyApiGroupList answers GET /apis. */
export function legacyApiGroupList(): object {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups()
      .filter((g) => g.group !== '')
      .map((g) => {
        const gv = { groupVersion: `${g.group}/${g.version}`, version: g.version };
        return { name: g.group, versions: [gv], preferredVersion: gv };
      }),
  };
}

/** apiResourceList answers GET /api/v1 and /apis/<group>/<version>, or undefined for an unknown group version. */
export function apiResourceList(group: string, version: string): object | undefined {
  const g = groups().find((x) => x.group === group && x.version === version);
  if (!g) return undefined;
  const resources: object[] = [];
  for (const r of g.resources) {
    resources.push({
      name: r.resource,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
      ...(r.categories.length ? { categories: r.categories } : {}),
    });
    for (const sub of r.subresources) {
      const k = SUBRESOURCE_KIND[sub];
      resources.push({
        name: `${r.resource}/${sub}`,
        singularName: '',
        namespaced: r.namespaced,
        ...(k && (k.group !== r.group || k.kind !== r.kind)
          ? { group: k.group, version: k.version, kind: k.kind }
          : { kind: r.kind }),
        verbs: k?.verbs ?? ['get', 'patch', 'update'],
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion(g), resources };
}

/** aggregatedDiscovery answers GET /api (core) or /apis (groups) in the aggregated format. */
export function aggregatedDiscovery(core: boolean, version: 'v2' | 'v2beta1'): object {
  const items = groups()
    .filter((g) => (g.group === '') === core)
    .map((g) => ({
      metadata: core ? { creationTimestamp: null } : { name: g.group, creationTimestamp: null },
      versions: [
        {
          version: g.version,
          freshness: 'Current',
          resources: g.resources.map((r) => ({
            resource: r.resource,
            responseKind: { group: r.group, version: r.version, kind: r.kind },
            scope: r.namespaced ? 'Namespaced' : 'Cluster',
            singularResource: r.singular,
            verbs: r.verbs,
            ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
            ...(r.categories.length ? { categories: r.categories } : {}),
            ...(r.subresources.length
              ? {
                  subresources: r.subresources.map((sub) => {
                    const k = SUBRESOURCE_KIND[sub];
                    return {
                      subresource: sub,
                      responseKind: k
                        ? { group: k.group, version: k.version, kind: k.kind }
                        : { group: r.group, version: r.version, kind: r.kind },
                      verbs: k?.verbs ?? ['get', 'patch', 'update'],
                    };
                  }),
                }
              : {}),
          })),
        },
      ],
    }));
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
}
