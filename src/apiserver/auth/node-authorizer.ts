import type { Pod, PodSpec } from 'kubernetes-types/core/v1.js';
import type { Stored } from '../../api/objects.ts';
import { NODE_RULES } from './bootstrap-policy.ts';
import type { ObjectLookup } from './authenticator.ts';
import { ruleAllows } from './rbac.ts';
import type { Attributes } from './request-attributes.ts';
import { NODES_GROUP, NODE_USER_PREFIX, type UserInfo } from './user.ts';

/** Decision is an authorizer's answer; noOpinion passes the request to the next authorizer. */
export type Decision = { decision: 'allow' | 'deny' | 'noOpinion'; reason: string };

const NO_OPINION: Decision = { decision: 'noOpinion', reason: '' };

/** nodeNameOf returns the node a user is (`system:node:<name>` in group system:nodes), or undefined. */
export function nodeNameOf(user: UserInfo): string | undefined {
  if (!user.groups.includes(NODES_GROUP) || !user.username.startsWith(NODE_USER_PREFIX)) return undefined;
  const name = user.username.slice(NODE_USER_PREFIX.length);
  return name === '' ? undefined : name;
}

/**
 * NodeAuthorizer is upstream's Node authorization mode, for kubelets (`system:node:<name>` in `system:nodes`): secrets,
 * configmaps, PVCs and PVs only when a pod bound to the node uses them, ServiceAccount tokens only for the
 * ServiceAccount of a pod on the node, its own Node object and Lease, status of its own pods; anything else by the
 * system:node rules. It has no opinion on other users.
 */
export class NodeAuthorizer {
  #lookup: ObjectLookup;
  #podsOnNode: (node: string) => Promise<Stored<Pod>[]>;

  constructor(options: { lookup: ObjectLookup; podsOnNode: (node: string) => Promise<Stored<Pod>[]> }) {
    this.#lookup = options.lookup;
    this.#podsOnNode = options.podsOnNode;
  }

  async authorize(a: Attributes): Promise<Decision> {
    const node = nodeNameOf(a.user);
    if (node === undefined) return NO_OPINION;
    if (!a.resourceRequest || (a.apiGroup !== '' && a.apiGroup !== 'coordination.k8s.io')) return this.#rules(a);
    const deny = (reason: string): Decision => ({ decision: 'noOpinion', reason });
    switch (a.apiGroup === '' ? a.resource : `${a.resource}.${a.apiGroup}`) {
      case 'secrets':
      case 'configmaps':
      case 'persistentvolumeclaims': {
        if (!['get', 'list', 'watch'].includes(a.verb) || a.name === '' || a.subresource !== '')
          return deny(`can only get individual resources of this type`);
        const pods = await this.#podsOnNode(node);
        if (pods.some((p) => p.metadata.namespace === a.namespace && podReferences(p, a.resource, a.name)))
          return this.#rules(a);
        return deny(`no relationship found between node '${node}' and this object`);
      }
      case 'serviceaccounts': {
        if (a.subresource !== 'token' || a.verb !== 'create')
          return deny(`can only create tokens for individual service accounts`);
        const pods = await this.#podsOnNode(node);
        if (
          pods.some((p) => p.metadata.namespace === a.namespace && (p.spec?.serviceAccountName ?? 'default') === a.name)
        )
          return this.#rules(a);
        return deny(`no relationship found between node '${node}' and this object`);
      }
      case 'leases.coordination.k8s.io':
        if (a.namespace !== 'kube-node-lease' || (a.name !== node && a.verb !== 'create'))
          return deny(`can only access node lease with the same name as the requesting node`);
        return this.#rules(a);
      case 'nodes':
        if (['update', 'patch', 'delete'].includes(a.verb) && a.name !== node)
          return deny(`node '${node}' cannot modify node '${a.name}'`);
        return this.#rules(a);
      case 'pods':
        if (a.subresource === 'status' || (a.verb === 'delete' && a.subresource === '')) {
          const pod = await this.#lookup('pods', a.namespace, a.name);
          if (pod && pod.spec?.nodeName !== node) return deny(`node '${node}' can only modify pods bound to it`);
        }
        return this.#rules(a);
      default:
        return this.#rules(a);
    }
  }

  #rules(a: Attributes): Decision {
    return NODE_RULES.some((rule) => ruleAllows(a, rule)) ? { decision: 'allow', reason: '' } : NO_OPINION;
  }
}

/** podReferences tells whether a pod uses a secret, configmap or PVC (volumes, env, envFrom, image pull secrets). */
function podReferences(pod: Pod, resource: string, name: string): boolean {
  const spec: Partial<PodSpec> = pod.spec ?? {};
  const containers = [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])];
  for (const v of spec.volumes ?? []) {
    if (resource === 'secrets' && v.secret?.secretName === name) return true;
    if (resource === 'configmaps' && v.configMap?.name === name) return true;
    if (resource === 'persistentvolumeclaims' && v.persistentVolumeClaim?.claimName === name) return true;
    for (const s of v.projected?.sources ?? []) {
      if (resource === 'secrets' && s.secret?.name === name) return true;
      if (resource === 'configmaps' && s.configMap?.name === name) return true;
    }
  }
  if (resource === 'secrets' && (spec.imagePullSecrets ?? []).some((s) => s.name === name)) return true;
  for (const c of containers) {
    for (const e of c.env ?? []) {
      if (resource === 'secrets' && e.valueFrom?.secretKeyRef?.name === name) return true;
      if (resource === 'configmaps' && e.valueFrom?.configMapKeyRef?.name === name) return true;
    }
    for (const e of c.envFrom ?? []) {
      if (resource === 'secrets' && e.secretRef?.name === name) return true;
      if (resource === 'configmaps' && e.configMapRef?.name === name) return true;
    }
  }
  return false;
}
