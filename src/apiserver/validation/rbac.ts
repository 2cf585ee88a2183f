import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-types/rbac/v1.js';
import type { KubeObject } from '../../api/objects.ts';
import type { StatusCause } from '../../api/status.ts';
import { type Decoded, type PerKind, handlerFor, isOneOf } from '../per-kind.ts';

/** RBAC_KINDS are validated here rather than with the DNS name rules: their names are path segments (`system:node`). */
export const RBAC_KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);

/**
 * validateRbac checks Roles, ClusterRoles and bindings as upstream's rbac validation does: names are path segments,
 * rules name verbs (and resources, or nonResourceURLs for ClusterRoles only), bindings have a roleRef that never
 * changes and subjects of a known kind.
 */
export function validateRbac(kind: string, object: KubeObject, old?: KubeObject): StatusCause[] {
  return handlerFor(VALIDATORS, kind)?.(object, old) ?? [];
}

interface RbacKinds {
  Role: Decoded<Role>;
  ClusterRole: Decoded<ClusterRole>;
  RoleBinding: Decoded<RoleBinding>;
  ClusterRoleBinding: Decoded<ClusterRoleBinding>;
}

const VALIDATORS: PerKind<RbacKinds, StatusCause[]> = {
  Role: (role) => validateRole('Role', role),
  ClusterRole: (role) => validateRole('ClusterRole', role),
  RoleBinding: (binding, old) => validateBinding('RoleBinding', binding, old),
  ClusterRoleBinding: (binding, old) => validateBinding('ClusterRoleBinding', binding, old),
};

/** Problems collects the causes of one object, with the name checks every RBAC kind gets already run. */
function problems(object: { metadata?: { name?: string } }) {
  const causes: StatusCause[] = [];
  const invalid = (field: string, value: unknown, detail: string) =>
    causes.push({ reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${detail}` });
  const required = (field: string) => causes.push({ reason: 'FieldValueRequired', field, message: 'Required value' });
  const name = object.metadata?.name ?? '';
  if (name === '.' || name === '..') invalid('metadata.name', name, `may not be '${name}'`);
  for (const bad of ['/', '%']) if (name.includes(bad)) invalid('metadata.name', name, `may not contain '${bad}'`);
  return { causes, invalid, required };
}

function validateRole(kind: 'Role' | 'ClusterRole', object: Decoded<Role | ClusterRole>): StatusCause[] {
  const { causes, invalid, required } = problems(object);
  (object.rules ?? []).forEach((rule, i) => {
    const field = `rules[${i}]`;
    if (!Array.isArray(rule?.verbs) || rule.verbs.length === 0) required(`${field}.verbs`);
    const hasUrls = Array.isArray(rule?.nonResourceURLs) && rule.nonResourceURLs.length > 0;
    if (hasUrls && kind === 'Role')
      invalid(`${field}.nonResourceURLs`, rule.nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs');
    if (!hasUrls) {
      if (!Array.isArray(rule?.apiGroups) || rule.apiGroups.length === 0) required(`${field}.apiGroups`);
      if (!Array.isArray(rule?.resources) || rule.resources.length === 0) required(`${field}.resources`);
    } else if ((rule.apiGroups ?? []).length || (rule.resources ?? []).length) {
      invalid(
        `${field}.nonResourceURLs`,
        rule.nonResourceURLs,
        'rules cannot apply to both regular resources and non-resource URLs',
      );
    }
  });
  return causes;
}

function validateBinding(
  kind: 'RoleBinding' | 'ClusterRoleBinding',
  object: Decoded<RoleBinding | ClusterRoleBinding>,
  old: Decoded<RoleBinding | ClusterRoleBinding> | undefined,
): StatusCause[] {
  const { causes, invalid, required } = problems(object);
  const ref = object.roleRef;
  if (!ref?.name) required('roleRef.name');
  const kinds = kind === 'ClusterRoleBinding' ? ['ClusterRole'] : ['Role', 'ClusterRole'];
  if (ref && !isOneOf(kinds, ref.kind))
    causes.push({
      reason: 'FieldValueNotSupported',
      field: 'roleRef.kind',
      message: `Unsupported value: ${JSON.stringify(ref.kind ?? '')}: supported values: ${kinds.map((k) => `"${k}"`).join(', ')}`,
    });
  if (ref && ref.apiGroup !== 'rbac.authorization.k8s.io')
    causes.push({
      reason: 'FieldValueNotSupported',
      field: 'roleRef.apiGroup',
      message: `Unsupported value: ${JSON.stringify(ref.apiGroup ?? '')}: supported values: "rbac.authorization.k8s.io"`,
    });
  if (old && JSON.stringify(old.roleRef) !== JSON.stringify(ref)) invalid('roleRef', ref, 'cannot change roleRef');
  (object.subjects ?? []).forEach((s, i) => {
    const field = `subjects[${i}]`;
    if (!s?.name) required(`${field}.name`);
    if (!isOneOf(['User', 'Group', 'ServiceAccount'], s?.kind))
      causes.push({
        reason: 'FieldValueNotSupported',
        field: `${field}.kind`,
        message: `Unsupported value: ${JSON.stringify(s?.kind ?? '')}: supported values: "ServiceAccount", "User", "Group"`,
      });
    if (s?.kind === 'ServiceAccount' && !s.namespace && kind === 'ClusterRoleBinding') required(`${field}.namespace`);
  });
  return causes;
}
