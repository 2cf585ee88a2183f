import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RESOURCES, groupVersion, type ResourceInfo } from '../api/resources.ts';
import { pathNotFound } from '../api/status.ts';
import {
  Descriptions,
  elementMessage,
  isScalar,
  jsonFields,
  messageSchema,
  openApiName,
  schemaKinds,
  type FieldSchema,
  type MessageSchema,
} from '../api/schema/schema.ts';

/**
 * OpenAPI documents of the served API, generated from the one schema: the v3 index (`/openapi/v3`), one v3 document
 * per group version with `components.schemas` (every served kind and what it reaches, with
 * `x-kubernetes-group-version-kind`, list and patch extensions) and the operations of every resource path, which
 * `kubectl explain` walks; and the v2 (swagger) document in JSON. kubectl 1.27/1.28 fetch v2 as protobuf only to
 * validate on the client, which they skip since the v3 documents declare `fieldValidation`: that request gets an
 * empty protobuf document (see kubectl-protocol.md §2). Descriptions come from the `kubernetes-types` package.
 */
type Flavour = 'v3' | 'v2';
type Json = Record<string, unknown>;

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
/** OPENAPI_V2_PROTOBUF is the content type kubectl 1.27/1.28 require on /openapi/v2 (kubectl-protocol.md gotcha 2). */
const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
const STATUS = `${META}.Status`;

export interface OpenApiOptions {
  /** The version the documents report (info.version), e.g. `v1.33.0`. */
  serverVersion: string;
  resources?: readonly ResourceInfo[];
}

/** OpenApi builds each document once, on first request, and keeps its JSON text (the served API does not change). */
export class OpenApi {
  #o: OpenApiOptions;
  #descriptions = new Descriptions();
  #v3 = new Map<string, { text: string; hash: string }>();
  #v2: string | undefined;
  #gvks: Map<string, { group: string; version: string; kind: string }[]> | undefined;

  constructor(options: OpenApiOptions) {
    this.#o = options;
  }

  /**
   * serve answers GET /openapi/v2, /swagger-2.0.0.pb-v1, /openapi/v3 and /openapi/v3/<gv>. v2 in protobuf (what
   * kubectl asks for) is the empty document; v2 in JSON is complete. Hashed v3 URLs may be cached forever.
   */
  serve(req: IncomingMessage, res: ServerResponse, path: string): void {
    const send = (type: string, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...headers });
      res.end(body);
    };
    if (path === '/openapi/v2' || path === '/swagger-2.0.0.pb-v1') {
      if (path === '/swagger-2.0.0.pb-v1' || (req.headers.accept ?? '').includes('protobuf'))
        return send(OPENAPI_V2_PROTOBUF, '');
      return send('application/json', this.v2Document());
    }
    if (path === '/openapi/v3') return send('application/json', JSON.stringify(this.v3Index()));
    const doc = path.startsWith('/openapi/v3/') ? this.#v3Doc(path.slice('/openapi/v3/'.length)) : undefined;
    if (!doc) throw pathNotFound();
    const hashed = new URL(req.url ?? '/', 'http://x').searchParams.get('hash') === doc.hash;
    send('application/json', doc.text, {
      Etag: `"${doc.hash}"`,
      ...(hashed ? { 'Cache-Control': 'public, immutable' } : {}),
    });
  }

  /** v3Index answers GET /openapi/v3: a path per group version whose URL carries the document's hash. */
  v3Index(): object {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const gv of this.#groupVersions())
      paths[gv.path] = { serverRelativeURL: `/openapi/v3/${gv.path}?hash=${this.#v3Doc(gv.path)!.hash}` };
    return { paths };
  }

  /** v3Document returns the JSON text of `/openapi/v3/<path>` (`api/v1`, `apis/apps/v1`), or undefined. */
  v3Document(path: string): string | undefined {
    return this.#v3Doc(path)?.text;
  }

  /** v2Document returns the JSON text of the swagger 2.0 document of the whole API. */
  v2Document(): string {
    this.#v2 ??= JSON.stringify(this.#document('v2', this.#resources()));
    return this.#v2;
  }

  #v3Doc(path: string): { text: string; hash: string } | undefined {
    const cached = this.#v3.get(path);
    if (cached) return cached;
    const gv = this.#groupVersions().find((g) => g.path === path);
    if (!gv) return undefined;
    const text = JSON.stringify(this.#document('v3', gv.resources));
    const entry = { text, hash: createHash('sha512').update(text).digest('hex').toUpperCase() };
    this.#v3.set(path, entry);
    return entry;
  }

  #resources(): readonly ResourceInfo[] {
    return this.#o.resources ?? RESOURCES;
  }

  #groupVersions(): { path: string; resources: ResourceInfo[] }[] {
    const map = new Map<string, ResourceInfo[]>();
    for (const r of this.#resources()) {
      const path = r.group === '' ? `api/${r.version}` : `apis/${r.group}/${r.version}`;
      map.set(path, [...(map.get(path) ?? []), r]);
    }
    return [...map].map(([path, resources]) => ({ path, resources }));
  }

  #document(flavour: Flavour, resources: readonly ResourceInfo[]): object {
    const roots = new Set<string>([STATUS, `${META}.DeleteOptions`, `${META}.Patch`, `${META}.WatchEvent`]);
    const paths: Record<string, Json> = {};
    for (const r of resources) {
      const kind = this.#kindMessage(groupVersion(r), r.kind);
      const list = this.#kindMessage(groupVersion(r), r.listKind);
      if (!kind) continue;
      roots.add(kind.name);
      if (list) roots.add(list.name);
      if (r.subresources.includes('scale')) roots.add('k8s.io.api.autoscaling.v1.Scale');
      Object.assign(paths, resourcePaths(flavour, r, kind, list));
    }
    const schemas = this.#schemas(flavour, [...roots]);
    const info = { title: 'Kubernetes', version: this.#o.serverVersion };
    return flavour === 'v3'
      ? { openapi: '3.0.0', info, paths, components: { schemas } }
      : { swagger: '2.0', info, paths, definitions: schemas };
  }

  #kindMessage(apiVersion: string, kind: string): MessageSchema | undefined {
    return schemaKinds().find((k) => k.apiVersion === apiVersion && k.kind === kind)?.message;
  }

  /** #schemas returns the definitions of the root messages and of every message they reach. */
  #schemas(flavour: Flavour, roots: string[]): Json {
    const out: Json = {};
    const pending = [...roots];
    while (pending.length > 0) {
      const name = pending.pop()!;
      const key = openApiName(name);
      if (out[key]) continue;
      const message = messageSchema(name);
      out[key] = this.#messageDefinition(flavour, message, (ref) => pending.push(ref));
    }
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
  }

  #messageDefinition(flavour: Flavour, message: MessageSchema, reach: (name: string) => void): Json {
    const doc = this.#descriptions.of(message.name);
    const definition: Json = message.json ? specialDefinition(flavour, message) : { type: 'object' };
    if (doc?.description) definition.description = doc.description;
    if (message.json) return definition;
    const properties: Record<string, Json> = {};
    const required: string[] = [];
    const gvks = this.#gvkIndex().get(message.name);
    if (gvks) {
      properties.apiVersion = { type: 'string', description: 'APIVersion of this representation of the object.' };
      properties.kind = {
        type: 'string',
        description: 'Kind is the REST resource this object represents, in CamelCase.',
      };
      definition['x-kubernetes-group-version-kind'] = gvks;
    }
    for (const [name, field] of jsonFields(message)) {
      const owner = field.via.length ? messageSchema(field.via.at(-1)!.type) : message;
      const description = (owner === message ? doc : this.#descriptions.of(owner.name))?.fields.get(name);
      properties[name] = property(flavour, field, description, reach);
      if (!field.optional && !field.omitEmpty && !field.pointer) required.push(name);
    }
    definition.properties = Object.fromEntries(Object.entries(properties).sort(([a], [b]) => (a < b ? -1 : 1)));
    if (required.length) definition.required = required;
    return definition;
  }

  #gvkIndex(): Map<string, { group: string; version: string; kind: string }[]> {
    if (this.#gvks) return this.#gvks;
    const map = new Map<string, { group: string; version: string; kind: string }[]>();
    for (const { apiVersion, kind, message } of schemaKinds()) {
      const slash = apiVersion.indexOf('/');
      const gvk = {
        group: slash < 0 ? '' : apiVersion.slice(0, slash),
        kind,
        version: slash < 0 ? apiVersion : apiVersion.slice(slash + 1),
      };
      map.set(message.name, [...(map.get(message.name) ?? []), gvk]);
    }
    this.#gvks = map;
    return map;
  }
}

function ref(flavour: Flavour, name: string): Json {
  return {
    $ref: flavour === 'v3' ? `#/components/schemas/${openApiName(name)}` : `#/definitions/${openApiName(name)}`,
  };
}

/** specialDefinition: the OpenAPI form upstream gives the types with their own JSON form. */
function specialDefinition(flavour: Flavour, message: MessageSchema): Json {
  switch (message.json) {
    case 'time':
    case 'micro-time':
      return { type: 'string', format: 'date-time' };
    case 'int-or-string':
      return flavour === 'v3'
        ? { format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }] }
        : { type: 'string', format: 'int-or-string' };
    case 'quantity':
      return flavour === 'v3' ? { oneOf: [{ type: 'string' }, { type: 'number' }] } : { type: 'string' };
    case 'string-array':
      return { type: 'array', items: { type: 'string', default: '' } };
    case 'raw-extension':
    case 'raw-json':
      return { type: 'object' };
    default:
      return { type: 'string' };
  }
}

function property(
  flavour: Flavour,
  field: FieldSchema,
  description: string | undefined,
  reach: (name: string) => void,
): Json {
  let element: Json;
  if (isScalar(field.type)) element = scalar(field.type);
  else {
    const message = elementMessage(field)!;
    reach(message.name);
    element = message.json === 'string-array' ? specialDefinition(flavour, message) : ref(flavour, message.name);
  }
  let out: Json;
  if (field.map) out = { type: 'object', additionalProperties: element };
  else if (field.repeated) out = { type: 'array', items: element };
  else if (element.$ref && flavour === 'v3') out = description ? { allOf: [element] } : element;
  else out = { ...element };
  if (description) out.description = description;
  if (field.listType) out['x-kubernetes-list-type'] = field.listType;
  if (field.listMapKeys) out['x-kubernetes-list-map-keys'] = field.listMapKeys;
  if (field.patchMergeKey) out['x-kubernetes-patch-merge-key'] = field.patchMergeKey;
  if (field.patchStrategy) out['x-kubernetes-patch-strategy'] = field.patchStrategy;
  return out;
}

function scalar(type: string): Json {
  switch (type) {
    case 'string':
      return { type: 'string' };
    case 'bytes':
      return { type: 'string', format: 'byte' };
    case 'bool':
      return { type: 'boolean' };
    case 'int32':
    case 'uint32':
      return { type: 'integer', format: 'int32' };
    case 'int64':
    case 'uint64':
      return { type: 'integer', format: 'int64' };
    case 'float':
      return { type: 'number', format: 'float' };
    default:
      return { type: 'number', format: 'double' };
  }
}

const MEDIA = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];

/** resourcePaths: the REST operations of one resource, each naming its kind (kubectl explain finds kinds by path). */
function resourcePaths(
  flavour: Flavour,
  r: ResourceInfo,
  kind: MessageSchema,
  list: MessageSchema | undefined,
): Record<string, Json> {
  const base = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const collection = r.namespaced ? `${base}/namespaces/{namespace}/${r.resource}` : `${base}/${r.resource}`;
  const gvk = { group: r.group, version: r.version, kind: r.kind };
  const upper = (s: string) => s.replace(/^./, (c) => c.toUpperCase());
  const groupPart =
    r.group === ''
      ? 'Core'
      : r.group
          .replace(/\.k8s\.io$/, '')
          .split('.')
          .map(upper)
          .join('');
  const camel = `${groupPart}${upper(r.version)}${r.namespaced ? 'Namespaced' : ''}${r.kind}`;
  const param = (name: string, where: 'path' | 'query', type = 'string'): Json =>
    flavour === 'v3'
      ? { name, in: where, ...(where === 'path' ? { required: true } : {}), schema: { type } }
      : { name, in: where, type, ...(where === 'path' ? { required: true } : {}) };
  const writeParams = [param('dryRun', 'query'), param('fieldManager', 'query'), param('fieldValidation', 'query')];
  const op = (
    action: string,
    id: string,
    response: string,
    options: { params?: Json[]; body?: string; codes?: string[] } = {},
  ): Json => {
    const out: Json = {
      operationId: `${id}${camel}`,
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
    };
    const params = [...(options.params ?? [])];
    if (options.body && flavour === 'v2')
      params.push({ name: 'body', in: 'body', required: true, schema: ref(flavour, options.body) });
    if (params.length) out.parameters = params;
    if (options.body && flavour === 'v3')
      out.requestBody = { content: { 'application/json': { schema: ref(flavour, options.body) } } };
    out.responses = Object.fromEntries(
      (options.codes ?? ['200']).map((code) => [
        code,
        flavour === 'v3'
          ? {
              description: code === '201' ? 'Created' : code === '202' ? 'Accepted' : 'OK',
              content: Object.fromEntries(MEDIA.map((m) => [m, { schema: ref(flavour, response) }])),
            }
          : { description: 'OK', schema: ref(flavour, response) },
      ]),
    );
    if (flavour === 'v2') out.produces = MEDIA;
    return out;
  };
  const pathParams = (...names: string[]) => ({ parameters: names.map((n) => param(n, 'path')) });
  const scope = r.namespaced ? ['namespace'] : [];
  const paths: Record<string, Json> = {};
  const verbs = new Set(r.verbs);
  const coll: Json = { ...pathParams(...scope) };
  if (list && verbs.has('list'))
    coll.get = op('list', 'list', list.name, {
      params: [param('labelSelector', 'query'), param('fieldSelector', 'query'), param('watch', 'query', 'boolean')],
    });
  if (verbs.has('create'))
    coll.post = op('post', 'create', kind.name, { params: writeParams, body: kind.name, codes: ['200', '201', '202'] });
  if (list && verbs.has('deletecollection')) coll.delete = op('deletecollection', 'deleteCollection', STATUS);
  paths[collection] = coll;
  const item: Json = { ...pathParams(...scope, 'name') };
  if (verbs.has('get')) item.get = op('get', 'read', kind.name);
  if (verbs.has('update'))
    item.put = op('put', 'replace', kind.name, { params: writeParams, body: kind.name, codes: ['200', '201'] });
  if (verbs.has('patch'))
    item.patch = op('patch', 'patch', kind.name, {
      params: [...writeParams, param('force', 'query', 'boolean')],
      body: `${META}.Patch`,
      codes: ['200', '201'],
    });
  if (verbs.has('delete'))
    item.delete = op('delete', 'delete', kind.name, { body: `${META}.DeleteOptions`, codes: ['200', '202'] });
  paths[`${collection}/{name}`] = item;
  if (r.namespaced && list)
    paths[`${base}/${r.resource}`] = {
      get: op('list', 'list', list.name, { params: [param('labelSelector', 'query')] }),
    };
  for (const sub of r.subresources) {
    const target = sub === 'status' ? kind.name : sub === 'scale' ? 'k8s.io.api.autoscaling.v1.Scale' : undefined;
    if (!target) continue;
    const subGvk = sub === 'scale' ? { group: 'autoscaling', version: 'v1', kind: 'Scale' } : gvk;
    const entry: Json = { ...pathParams(...scope, 'name') };
    for (const [method, action, id] of [
      ['get', 'get', 'read'],
      ['put', 'put', 'replace'],
      ['patch', 'patch', 'patch'],
    ] as const) {
      entry[method] = {
        ...op(
          action,
          `${id}${sub[0]!.toUpperCase()}${sub.slice(1)}`,
          target,
          method === 'get' ? {} : { params: writeParams, body: method === 'put' ? target : `${META}.Patch` },
        ),
        'x-kubernetes-group-version-kind': subGvk,
      };
    }
    paths[`${collection}/{name}/${sub}`] = entry;
  }
  return paths;
}
