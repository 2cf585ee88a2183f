/**
 * The authorization verb of a resource request made with an HTTP method, as upstream's RequestInfoFactory and the
 * kubelet's authorizer name it (a GET of a collection or a watch is refined by the caller: list, watch).
 */
const METHOD_VERBS: Readonly<Record<string, string>> = {
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
  GET: 'get',
  HEAD: 'get',
};

/** verbOfMethod: create, update, patch, delete or get; another method is its own name in lower case. */
export function verbOfMethod(method: string): string {
  return Object.hasOwn(METHOD_VERBS, method) ? METHOD_VERBS[method]! : method.toLowerCase();
}
