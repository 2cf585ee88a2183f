import { matches, selectorFromObject, type LabelSelector } from '../../api/labels.ts';
import type { Attributes } from './request-attributes.ts';
import { parseServiceAccountUsername, type UserInfo } from './user.ts';

/** PolicyRule is one rule of a Role or ClusterRole (rbac.authorization.k8s.io/v1). */
export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: 'User' | 'Group' | 'ServiceAccount';
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: 'Role' | 'ClusterRole';
  name: string;
}

export interface RoleObject {
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  rules?: PolicyRule[] | null;
  aggregationRule?: { clusterRoleSelectors?: LabelSelector[] };
}

export interface BindingObject {
  metadata: { name: string; namespace?: string };
  subjects?: Subject[] | null;
  roleRef: RoleRef;
}

/** ruleAllows is upstream's RuleAllows: verb, API group, resource (with wildcards and `*`-slash-subresource) and resourceNames, or a path. */
export function ruleAllows(a: Attributes, rule: PolicyRule): boolean {
  if (!rule.verbs.some((v) => v === '*' || v === a.verb)) return false;
  if (!a.resourceRequest) {
    return (rule.nonResourceURLs ?? []).some(
      (u) => u === '*' || u === a.path || (u.endsWith('*') && a.path.startsWith(u.slice(0, -1))),
    );
  }
  if (!(rule.apiGroups ?? []).some((g) => g === '*' || g === a.apiGroup)) return false;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  if (
    !(rule.resources ?? []).some(
      (r) => r === '*' || r === combined || (a.subresource !== '' && r === `*/${a.subresource}`),
    )
  )
    return false;
  const names = rule.resourceNames ?? [];
  return names.length === 0 || names.includes(a.name);
}

/** subjectMatches tells whether a binding's subject is the user (by name, group, or ServiceAccount). */
export function subjectMatches(subject: Subject, user: UserInfo, bindingNamespace: string): boolean {
  switch (subject.kind) {
    case 'User':
      return subject.name === user.username;
    case 'Group':
      return user.groups.includes(subject.name);
    case 'ServiceAccount': {
      const sa = parseServiceAccountUsername(user.username);
      return sa !== undefined && sa.name === subject.name && sa.namespace === (subject.namespace || bindingNamespace);
    }
    default:
      return false;
  }
}

/**
 * RbacPolicy holds every Role, ClusterRole and binding (kept current from the store) and answers upstream's RBAC
 * question: does any binding that names the user grant a role with a rule that allows the request? ClusterRoles with
 * an aggregationRule get the rules of the ClusterRoles their selectors pick, as upstream's aggregation controller
 * writes them.
 */
export class RbacPolicy {
  #clusterRoles = new Map<string, RoleObject>();
  #roles = new Map<string, RoleObject>();
  #clusterRoleBindings = new Map<string, BindingObject>();
  #roleBindings = new Map<string, Map<string, BindingObject>>();
  #effective = new Map<string, PolicyRule[]>();

  /** put stores or replaces an object of one of the four kinds; remove deletes it. */
  put(kind: RbacKind, object: RoleObject | BindingObject): void {
    this.#effective.clear();
    const { name, namespace = '' } = object.metadata;
    if (kind === 'ClusterRole' || kind === 'Role') {
      if ('roleRef' in object) return;
      if (kind === 'ClusterRole') this.#clusterRoles.set(name, object);
      else this.#roles.set(`${namespace}/${name}`, object);
      return;
    }
    // A binding without a roleRef (validation never lets one through) would break every later decision.
    if (!('roleRef' in object) || !object.roleRef) return;
    if (kind === 'ClusterRoleBinding') this.#clusterRoleBindings.set(name, object);
    else {
      if (!this.#roleBindings.has(namespace)) this.#roleBindings.set(namespace, new Map());
      this.#roleBindings.get(namespace)!.set(name, object);
    }
  }

  remove(kind: RbacKind, namespace: string | undefined, name: string): void {
    this.#effective.clear();
    if (kind === 'ClusterRole') this.#clusterRoles.delete(name);
    else if (kind === 'Role') this.#roles.delete(`${namespace}/${name}`);
    else if (kind === 'ClusterRoleBinding') this.#clusterRoleBindings.delete(name);
    else this.#roleBindings.get(namespace ?? '')?.delete(name);
  }

  /** allows returns the name of the binding that grants the request, or undefined. */
  allows(a: Attributes): string | undefined {
    for (const b of this.#clusterRoleBindings.values()) {
      if (b.roleRef.kind !== 'ClusterRole' || !(b.subjects ?? []).some((s) => subjectMatches(s, a.user, ''))) continue;
      if (this.clusterRoleRules(b.roleRef.name).some((r) => ruleAllows(a, r)))
        return `ClusterRoleBinding "${b.metadata.name}" of ClusterRole "${b.roleRef.name}"`;
    }
    if (a.namespace === '') return undefined;
    for (const b of this.#roleBindings.get(a.namespace)?.values() ?? []) {
      if (!(b.subjects ?? []).some((s) => subjectMatches(s, a.user, a.namespace))) continue;
      if (this.#bindingRules(b).some((r) => ruleAllows(a, r)))
        return `RoleBinding "${b.metadata.name}/${a.namespace}" of ${b.roleRef.kind} "${b.roleRef.name}"`;
    }
    return undefined;
  }

  /** rulesFor lists the rules a user has in a namespace (SelfSubjectRulesReview), cluster-wide ones included. */
  rulesFor(user: UserInfo, namespace: string): PolicyRule[] {
    const rules: PolicyRule[] = [];
    for (const b of this.#clusterRoleBindings.values()) {
      if (b.roleRef.kind === 'ClusterRole' && (b.subjects ?? []).some((s) => subjectMatches(s, user, '')))
        rules.push(...this.clusterRoleRules(b.roleRef.name));
    }
    for (const b of this.#roleBindings.get(namespace)?.values() ?? []) {
      if ((b.subjects ?? []).some((s) => subjectMatches(s, user, namespace))) rules.push(...this.#bindingRules(b));
    }
    return rules;
  }

  /** clusterRoleRules is a ClusterRole's rules, aggregated ones included. */
  clusterRoleRules(name: string, seen = new Set<string>()): PolicyRule[] {
    const cached = this.#effective.get(name);
    if (cached) return cached;
    const role = this.#clusterRoles.get(name);
    if (!role) return [];
    let rules = role.rules ?? [];
    const selectors = role.aggregationRule?.clusterRoleSelectors;
    if (selectors?.length && !seen.has(name)) {
      seen.add(name);
      const parsed = selectors.map((s) => selectorFromObject(s)).filter((s) => s !== undefined);
      rules = [...rules];
      for (const [other, candidate] of [...this.#clusterRoles.entries()].sort(([x], [y]) => x.localeCompare(y))) {
        if (other === name || !parsed.some((s) => matches(s, candidate.metadata.labels))) continue;
        rules.push(...this.clusterRoleRules(other, seen));
      }
    }
    this.#effective.set(name, rules);
    return rules;
  }

  /** roleRules is a namespaced Role's rules. */
  roleRules(namespace: string, name: string): PolicyRule[] {
    return this.#roles.get(`${namespace}/${name}`)?.rules ?? [];
  }

  #bindingRules(b: BindingObject): PolicyRule[] {
    if (b.roleRef.kind === 'ClusterRole') return this.clusterRoleRules(b.roleRef.name);
    return this.#roles.get(`${b.metadata.namespace}/${b.roleRef.name}`)?.rules ?? [];
  }
}

export type RbacKind = 'Role' | 'ClusterRole' | 'RoleBinding' | 'ClusterRoleBinding';
