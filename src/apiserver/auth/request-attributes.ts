import type { UserInfo } from './user.ts';
import { verbOfMethod } from '../../api/verbs.ts';

/**
 * Attributes is what an authorizer decides on, as upstream's authorizer.Attributes: the user, the verb, and either
 * a resource (group, resource, subresource, namespace, name) or a non-resource path.
 */
export interface Attributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  /** The URL path (non-resource requests are authorized on it). */
  path: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

/** Subresources that kubectl reaches with a protocol upgrade over GET, and that upstream authorizes as `create`. */
const UPGRADE_CREATE = new Set(['exec', 'attach', 'portforward']);

/**
 * requestAttributes reads a request's attributes the way upstream's RequestInfoFactory does: `/api/v1/...` and
 * `/apis/<group>/<version>/...` are resource requests (GET on a collection is list, or watch with `watch=true`;
 * DELETE on a collection is deletecollection), anything else is a non-resource path with the lower-case method.
 */
/** nonResourceAttributes asks about a verb on a URL path that names no resource (/healthz, /metrics, /api). */
export function nonResourceAttributes(user: UserInfo, verb: string, path: string): Attributes {
  return {
    user,
    verb,
    resourceRequest: false,
    path,
    apiGroup: '',
    apiVersion: '',
    resource: '',
    subresource: '',
    namespace: '',
    name: '',
  };
}

export function requestAttributes(
  user: UserInfo,
  method: string,
  url: URL,
  options: { upgrade?: boolean } = {},
): Attributes {
  const path = url.pathname;
  const lowerMethod = method.toLowerCase();
  const base = nonResourceAttributes(user, lowerMethod, path);
  const parts = path
    .split('/')
    .filter((p) => p !== '')
    .map(safeDecode);
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    base.apiVersion = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    base.apiGroup = parts[1]!;
    base.apiVersion = parts[2]!;
    rest = parts.slice(3);
  } else {
    return base;
  }
  const attrs: Attributes = { ...base, resourceRequest: true, verb: verbOfMethod(method) };
  if (rest[0] === 'watch') {
    attrs.verb = 'watch';
    rest = rest.slice(1);
  }
  if (rest[0] === 'namespaces' && rest.length > 1) {
    attrs.namespace = rest[1]!;
    // After the namespace comes the resource, unless it is the namespace's own subresource (status, finalize).
    if (rest.length > 2 && rest[2] !== 'status' && rest[2] !== 'finalize') rest = rest.slice(2);
  }
  attrs.resource = rest[0] ?? '';
  attrs.name = rest[1] ?? '';
  attrs.subresource = rest[2] ?? '';
  if (attrs.name === '') {
    if (attrs.verb === 'get') attrs.verb = watchParam(url) ? 'watch' : 'list';
    else if (attrs.verb === 'delete') attrs.verb = 'deletecollection';
    // A list or watch narrowed to one name by a field selector is authorized as a request for that name.
    const selected = /^metadata\.name==?([^,]+)$/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1];
    if (selected && (attrs.verb === 'list' || attrs.verb === 'watch')) attrs.name = selected;
  } else if (attrs.verb === 'get' && watchParam(url)) {
    attrs.verb = 'watch';
  }
  if (options.upgrade && UPGRADE_CREATE.has(attrs.subresource)) attrs.verb = 'create';
  return attrs;
}

function watchParam(url: URL): boolean {
  const w = url.searchParams.get('watch');
  return w === 'true' || w === '1';
}

function safeDecode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/**
 * forbiddenMessage is upstream's text for a denied request (kubectl prints it after `Error from server (Forbidden):`):
 * `User "x" cannot list resource "pods" in API group "" in the namespace "default"`.
 */
export function forbiddenMessage(a: Attributes): string {
  if (!a.resourceRequest)
    return `User ${JSON.stringify(a.user.username)} cannot ${a.verb} path ${JSON.stringify(a.path)}`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? `in the namespace ${JSON.stringify(a.namespace)}` : 'at the cluster scope';
  return `User ${JSON.stringify(a.user.username)} cannot ${a.verb} resource ${JSON.stringify(resource)} in API group ${JSON.stringify(a.apiGroup)} ${where}`;
}
