import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Binding } from 'kubernetes-types/core/v1.js';
import { RESOURCES, groupVersion, type ResourceInfo } from '../api/resources.ts';
import { displayValue, getOwn, isPlainObject, type JsonObject } from '../api/own-properties.ts';
import {
  StatusError,
  type StatusCause,
  badRequest,
  internalError,
  invalid,
  methodNotSupported,
  pathNotFound,
  unsupportedMediaType,
} from '../api/status.ts';
import type { Logger } from '../log/klog.ts';
import {
  AGGREGATED_CONTENT_TYPE,
  aggregatedDiscovery,
  apiResourceList,
  legacyApiGroupList,
  legacyApiVersions,
} from './discovery.ts';
import { OpenApi } from './openapi.ts';
import { applyPatch, applyServerSideApply } from './patch/patch.ts';
import { printTable } from './printers/printers.ts';
import { proxyToKubelet, type KubeletClientTls } from './kubelet-proxy.ts';
import type { ApiObject, DeleteOptions, Registry } from './registry.ts';
import type { KubeObject, Stored } from '../api/objects.ts';
import { PROTOBUF_MEDIA_TYPE } from '../api/protobuf/protobuf.ts';
import type { ApiServerMetrics, RequestInfo } from './metrics.ts';
import { negotiate, watchEncoding, writeBody } from './negotiation.ts';
import {
  checkPathSegmentName,
  decodeContinue,
  decodePathSegment,
  deleteQuery,
  encodeContinue,
  listQuery,
  writeQuery,
  type ListQueryOptions,
  type WriteQuery,
} from './query-options.ts';
import {
  MAX_NESTING_DEPTH,
  decodeBody,
  decodeBodyWithDuplicates,
  depthOf,
  mediaType,
  readBody,
} from './request-body.ts';
import { TypeMismatch, typedDecode } from './validation/typed-decode.ts';
import { serveWatch } from './watch.ts';
import { REVIEW_RESOURCES, REVIEW_VERSIONS, review, tokenRequest, type ReviewDeps } from './auth/reviews.ts';
import { UNSECURED, type UserInfo } from './auth/user.ts';

export interface HttpApiOptions {
  registry: Registry;
  logger: Logger;
  /** The minor version /version reports: the /usr/bin/kubectl dispatcher runs kubectl.1.<minor>. */
  versionMinor: string;
  /** Address advertised in legacy discovery. */
  serverAddress: string;
  metrics: ApiServerMetrics;
  /** Authentication and authorization state for the review kinds and TokenRequest (absent: they answer 404). */
  reviews?: ReviewDeps;
  /**
   * admit runs before an object is written (create, update, patch): admission plugins, which may change the object
   * or throw a StatusError.
   */
  admit?: (request: AdmissionRequest) => Promise<void>;
  /** written runs after a write, before the answer (the authorizer waits there until it has seen an RBAC change). */
  written?: (info: ResourceInfo, object: Stored<ApiObject>) => Promise<void>;
  /** How to reach kubelets for pods/log and pods/exec (absent: plain HTTP). */
  kubeletTls?: KubeletClientTls;
}

/** AdmissionRequest is one write as admission plugins see it. */
export interface AdmissionRequest {
  info: ResourceInfo;
  namespace: string | undefined;
  operation: 'CREATE' | 'UPDATE';
  object: ApiObject;
  old?: Stored<ApiObject>;
  user: UserInfo;
  subresource?: string;
  dryRun: boolean;
}

interface Target {
  info: ResourceInfo;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

/**
 * createApiHandler answers the Kubernetes REST API: discovery, OpenAPI stubs, health, and the verbs on every served
 * resource. Handlers throw StatusError; `#respondError` alone turns errors into responses.
 */
export function createApiHandler(
  options: HttpApiOptions,
): (req: IncomingMessage, res: ServerResponse, user?: UserInfo) => void {
  const api = new HttpApi(options);
  return (req, res, user = UNSECURED) => {
    options.metrics.track(req, res);
    api.handle(req, res, user).catch((error) => api.respondError(req, res, error));
  };
}

class HttpApi {
  #o: HttpApiOptions;
  #openApi: OpenApi;
  constructor(options: HttpApiOptions) {
    this.#o = options;
    this.#openApi = new OpenApi({ serverVersion: `v1.${options.versionMinor}.0` });
  }

  async handle(req: IncomingMessage, res: ServerResponse, user: UserInfo): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      throw badRequest(`parse ${JSON.stringify(req.url)}: invalid URI for request`);
    }
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const log = this.#o.logger.v(4);
    if (log.enabled(4)) log.info('HTTP', { verb: method, URI: req.url, userAgent: req.headers['user-agent'] });
    switch (path) {
      case '/healthz':
      case '/livez':
      case '/readyz':
        return text(res, 200, 'ok');
      case '/metrics':
        return text(res, 200, await this.#o.metrics.render());
      case '/version':
        return json(res, 200, {
          major: '1',
          minor: this.#o.versionMinor,
          gitVersion: `v1.${this.#o.versionMinor}.0-tskube`,
          gitCommit: '',
          gitTreeState: 'clean',
          buildDate: '2026-11-24T00:00:00Z',
          goVersion: `node${process.versions.node}`,
          compiler: 'tskube',
          platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
        });
      case '/openapi/v2':
      case '/swagger-2.0.0.pb-v1':
      case '/openapi/v3':
        return this.#openApi.serve(req, res, path);
      case '/api':
      case '/apis':
        return this.#discoveryRoot(req, res, path === '/api');
    }
    if (path.startsWith('/openapi/v3/')) return this.#openApi.serve(req, res, path);
    const segments = path.split('/').slice(1).map(decodePathSegment);
    let group: string;
    let version: string;
    let rest: string[];
    if (segments[0] === 'api' && segments.length >= 2) {
      group = '';
      version = segments[1]!;
      rest = segments.slice(2);
    } else if (segments[0] === 'apis' && segments.length >= 3) {
      group = segments[1]!;
      version = segments[2]!;
      rest = segments.slice(3);
    } else {
      throw pathNotFound();
    }
    if (rest.length === 0) {
      const list = apiResourceList(group, version);
      if (!list || method !== 'GET') throw pathNotFound();
      return json(res, 200, list);
    }
    const reviewKind = REVIEW_RESOURCES[`${group}/${rest[rest.length - 1]}`];
    if (
      reviewKind &&
      REVIEW_VERSIONS.includes(version) &&
      (rest.length === 1 || (rest.length === 3 && rest[0] === 'namespaces'))
    ) {
      if (method !== 'POST')
        throw methodNotSupported({ group, resource: rest[rest.length - 1]! }, method.toLowerCase());
      if (!this.#o.reviews) throw pathNotFound();
      const body = decodeBody(await readBody(req), mediaType(req));
      return writeBody(
        res,
        201,
        await review(this.#o.reviews, {
          group,
          version,
          resource: rest[rest.length - 1]!,
          namespace: rest.length === 3 ? rest[1] : undefined,
          body,
          user,
        }),
        negotiate(req).encoding,
      );
    }
    if (
      group === '' &&
      rest.length === 5 &&
      rest[0] === 'namespaces' &&
      rest[2] === 'serviceaccounts' &&
      rest[4] === 'token'
    ) {
      if (method !== 'POST')
        throw methodNotSupported({ group: '', resource: 'serviceaccounts/token' }, method.toLowerCase());
      if (!this.#o.reviews) throw pathNotFound();
      const body = decodeBody(await readBody(req), mediaType(req));
      if (url.searchParams.getAll('dryRun').includes('All'))
        return writeBody(
          res,
          201,
          {
            kind: 'TokenRequest',
            apiVersion: 'authentication.k8s.io/v1',
            metadata: { name: rest[3], namespace: rest[1] },
            spec: (isPlainObject(body) ? body.spec : undefined) ?? {},
            status: { token: '', expirationTimestamp: null },
          },
          negotiate(req).encoding,
        );
      return writeBody(
        res,
        201,
        await tokenRequest(this.#o.reviews, { namespace: rest[1]!, name: rest[3]!, body }),
        negotiate(req).encoding,
      );
    }
    const target = this.#target(group, version, rest);
    this.#o.metrics.describe(res, requestInfo(method, url, target));
    return this.#dispatch(req, res, url, method, target, user);
  }

  #discoveryRoot(req: IncomingMessage, res: ServerResponse, core: boolean): void {
    const accept = req.headers.accept ?? '';
    // Answer the first aggregated flavour the client lists; kubectl 1.27–1.29 ask only for v2beta1.
    for (const part of accept.split(',')) {
      if (!part.includes('as=APIGroupDiscoveryList')) continue;
      const v = /;v=(v2beta1|v2)(;|$)/.exec(part.replace(/\s/g, ''))?.[1] as 'v2' | 'v2beta1' | undefined;
      if (v) {
        res.writeHead(200, { 'Content-Type': AGGREGATED_CONTENT_TYPE[v], Vary: 'Accept' });
        return void res.end(JSON.stringify(aggregatedDiscovery(core, v)));
      }
    }
    json(res, 200, core ? legacyApiVersions(this.#o.serverAddress) : legacyApiGroupList());
  }

  #target(group: string, version: string, rest: string[]): Target {
    let namespace: string | undefined;
    let parts = rest;
    if (
      rest[0] === 'namespaces' &&
      rest.length >= 3 &&
      !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))
    ) {
      namespace = rest[1];
      parts = rest.slice(2);
    }
    const info = RESOURCES.find((r) => r.group === group && r.version === version && r.resource === parts[0]);
    if (!info || parts.length > 3) throw pathNotFound();
    if (namespace !== undefined && !info.namespaced) throw pathNotFound();
    const name = parts[1];
    if (namespace !== undefined) checkPathSegmentName(namespace);
    if (name !== undefined) checkPathSegmentName(name);
    const subresource = parts[2];
    if (subresource !== undefined && !info.subresources.includes(subresource)) throw pathNotFound();
    return { info, namespace, name, subresource };
  }

  async #dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    method: string,
    t: Target,
    user: UserInfo,
  ): Promise<void> {
    const q = url.searchParams;
    const registry = this.#o.registry;
    const { info } = t;
    const ns = info.namespaced ? t.namespace : undefined;
    if (t.name === undefined) {
      if (method === 'GET') {
        const listOptions = listQuery(q);
        if (listOptions.watch) return this.#watch(req, res, q, t, listOptions);
        const { items, revision } = await registry.list(info, {
          namespace: ns,
          labelSelector: q.get('labelSelector') ?? undefined,
          fieldSelector: q.get('fieldSelector') ?? undefined,
        });
        return this.#respondList(req, res, q, info, items, revision, listOptions);
      }
      if (method === 'POST') {
        if (info.namespaced && ns === undefined) throw methodNotSupported(info, 'create');
        const { dryRun, fieldValidation } = writeQuery(q, 'CreateOptions');
        const body = await this.#objectBody(req, res, fieldValidation, info);
        await this.#o.admit?.({ info, namespace: ns, operation: 'CREATE', object: body, user, dryRun });
        const created = await registry.create(info, ns, body, { dryRun });
        return this.#respondWritten(req, res, q, info, created, 201);
      }
      if (method === 'DELETE') {
        const { dryRun } = writeQuery(q, 'DeleteOptions');
        listQuery(q);
        const options = await this.#deleteOptions(req, q);
        const { items } = await registry.list(info, {
          namespace: ns,
          labelSelector: q.get('labelSelector') ?? undefined,
          fieldSelector: q.get('fieldSelector') ?? undefined,
        });
        const deleted: Stored<ApiObject>[] = [];
        for (const item of items)
          deleted.push(
            (await registry.delete(info, item.metadata.namespace, item.metadata.name, options, { dryRun })).object,
          );
        return writeBody(
          res,
          200,
          { kind: info.listKind, apiVersion: groupVersion(info), metadata: {}, items: deleted },
          negotiate(req).encoding,
        );
      }
      throw methodNotSupported(info, method.toLowerCase());
    }
    if (info.namespaced && ns === undefined) throw pathNotFound();
    const name = t.name;
    switch (t.subresource) {
      case undefined:
      case 'status':
        break;
      case 'finalize':
        if (method !== 'PUT') throw methodNotSupported(info, method.toLowerCase());
        break;
      case 'scale':
        return this.#scale(
          req,
          res,
          q,
          t,
          method === 'GET' ? false : writeQuery(q, method === 'PATCH' ? 'PatchOptions' : 'UpdateOptions').dryRun,
        );
      case 'binding':
        if (method !== 'POST') throw methodNotSupported(info, method.toLowerCase());
        return this.#bind(req, res, q, t);
      case 'log':
      case 'exec':
        return proxyToKubelet(req, res, {
          registry,
          namespace: ns!,
          pod: name,
          subresource: t.subresource,
          query: q,
          tls: this.#o.kubeletTls,
        });
      default:
        throw pathNotFound();
    }
    switch (method) {
      case 'GET':
        return this.#respondObject(req, res, q, info, await registry.get(info, ns, name), 200);
      case 'PUT': {
        const { dryRun, fieldValidation } = writeQuery(q, 'UpdateOptions');
        const body = await this.#objectBody(req, res, fieldValidation, info);
        if (this.#o.admit)
          await this.#o.admit({
            info,
            namespace: ns,
            operation: 'UPDATE',
            object: body,
            old: await registry.get(info, ns, name),
            user,
            subresource: t.subresource,
            dryRun,
          });
        const updated = await registry.update(info, ns, name, body, { dryRun, subresource: t.subresource });
        return this.#respondWritten(req, res, q, info, updated, 200);
      }
      case 'PATCH':
        return this.#patch(req, res, q, t, user);
      case 'DELETE': {
        if (t.subresource) throw methodNotSupported(info, 'delete');
        const { dryRun } = writeQuery(q, 'DeleteOptions');
        const options = await this.#deleteOptions(req, q);
        const { object } = await registry.delete(info, ns, name, options, { dryRun });
        return this.#respondWritten(req, res, q, info, object, 200);
      }
      default:
        throw methodNotSupported(info, method.toLowerCase());
    }
  }

  /** #objectBody reads a create/update body, checks its kind, and decodes it with its kind's schema (#typed). */
  async #objectBody(
    req: IncomingMessage,
    res: ServerResponse,
    mode: WriteQuery['fieldValidation'],
    info: ResourceInfo,
  ): Promise<ApiObject> {
    const { value: body, duplicates } = decodeBodyWithDuplicates(await readBody(req), mediaType(req));
    if (!isPlainObject(body)) throw badRequest(`Object '${info.kind}' is not a JSON object`);
    if (body.kind !== undefined && body.kind !== info.kind) {
      throw badRequest(
        `the object provided is unrecognized (must be of type ${info.kind}): ${displayValue(body.kind)}`,
      );
    }
    return this.#typed(res, mode, info, body, duplicates, 'body');
  }

  /**
   * #typed decodes an object with its kind's one schema: a wrong JSON type is upstream's 400 for a body and 422
   * (field `patch`) for a patch's result; unknown and duplicate fields are dropped, refused (Strict) or answered
   * with `Warning: 299` headers (Warn, the default), as fieldValidation asks.
   */
  #typed(
    res: ServerResponse,
    mode: WriteQuery['fieldValidation'],
    info: ResourceInfo,
    value: JsonObject,
    duplicates: string[],
    source: 'body' | 'patch',
  ): ApiObject {
    const cannot = `${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}`;
    let decoded: ReturnType<typeof typedDecode>;
    try {
      decoded = typedDecode(groupVersion(info), info.kind, value);
    } catch (error) {
      if (!(error instanceof TypeMismatch)) throw error;
      if (source === 'patch')
        throw invalid({ group: '', kind: '' }, '', [
          {
            reason: 'FieldValueInvalid',
            field: 'patch',
            message: `Invalid value: ${shortJson(value)}: ${error.message}`,
          },
        ]);
      throw withCauses(badRequest(`${cannot}: ${error.message}`), [
        { reason: 'FieldValueInvalid', field: error.path, message: error.message },
      ]);
    }
    const problems = [
      ...decoded.unknown.map((f) => `unknown field "${f}"`),
      ...duplicates.map((f) => `duplicate field "${f}"`),
    ];
    if (problems.length && mode === 'Strict') {
      const causes = [
        ...decoded.unknown.map((f) => ({ reason: 'FieldValueInvalid', field: f, message: `unknown field "${f}"` })),
        ...duplicates.map((f) => ({ reason: 'FieldValueDuplicate', field: f, message: `duplicate field "${f}"` })),
      ];
      if (source === 'patch')
        throw invalid({ group: '', kind: '' }, '', [
          {
            reason: 'FieldValueInvalid',
            field: 'patch',
            message: `Invalid value: ${shortJson(value)}: strict decoding error: ${problems.join(', ')}`,
          },
        ]);
      throw withCauses(badRequest(`${cannot}: strict decoding error: ${problems.join(', ')}`), causes);
    }
    if (problems.length && mode === 'Warn' && !res.headersSent) {
      const previous = res.getHeader('Warning');
      res.setHeader('Warning', [
        ...(Array.isArray(previous) ? previous : []),
        ...problems.map((p) => `299 - ${JSON.stringify(p)}`),
      ]);
    }
    // typedDecode kept only the kind schema's fields, with their types: metadata is an ObjectMeta.
    return decoded.object as ApiObject;
  }

  async #deleteOptions(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOptions> {
    const raw = await readBody(req);
    // Typed clients send DeleteOptions in their own content type (protobuf for client-go's typed clients).
    const type = mediaType(req) === PROTOBUF_MEDIA_TYPE ? PROTOBUF_MEDIA_TYPE : 'application/json';
    return deleteQuery(q, raw.length ? decodeBody(raw, type) : undefined);
  }

  async #patch(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    t: Target,
    user: UserInfo,
  ): Promise<void> {
    const { info } = t;
    const ns = info.namespaced ? t.namespace : undefined;
    const type = mediaType(req);
    const apply = type === 'application/apply-patch+yaml';
    if (!PATCH_TYPES.includes(type)) throw unsupportedPatchType(type);
    const { dryRun, fieldValidation } = writeQuery(q, 'PatchOptions', apply);
    const { value: patch, duplicates } = decodeBodyWithDuplicates(await readBody(req), type);
    const registry = this.#o.registry;
    let applied: ApiObject | undefined;
    if (apply) {
      if (!isPlainObject(patch))
        throw badRequest(
          `error decoding YAML: json: cannot unmarshal ${Array.isArray(patch) ? 'array' : patch === null ? 'null' : typeof patch} into Go value of type map[string]interface {}`,
        );
      if (patch.kind !== undefined && patch.kind !== info.kind)
        throw badRequest(
          `the object provided is unrecognized (must be of type ${info.kind}): ${displayValue(patch.kind)}`,
        );
      const name = getOwn(patch.metadata, 'name');
      if (name !== undefined && name !== t.name)
        throw badRequest(
          `the name of the object (${displayValue(name)}) does not match the name on the URL (${t.name})`,
        );
      const namespace = getOwn(patch.metadata, 'namespace');
      if (namespace !== undefined && info.namespaced && namespace !== ns)
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      applied = this.#typed(res, fieldValidation, info, patch, duplicates, 'body');
    }
    for (let attempt = 0; ; attempt++) {
      let current: Stored<ApiObject>;
      try {
        current = await registry.get(info, ns, t.name!);
      } catch (error) {
        if (applied && error instanceof StatusError && error.code === 404 && !t.subresource) {
          // Apply to an object that is not there creates the applied configuration.
          const fresh = structuredClone(applied);
          fresh.metadata = { ...fresh.metadata, name: t.name };
          await this.#o.admit?.({ info, namespace: ns, operation: 'CREATE', object: fresh, user, dryRun });
          const created = await registry.create(info, ns, fresh, { dryRun });
          return this.#respondWritten(req, res, q, info, created, 201);
        }
        throw error;
      }
      const result = applied
        ? applyServerSideApply(info.kind, current, applied)
        : applyPatch(type, info.kind, current, patch);
      checkPatchResult(result);
      const patched = this.#typed(
        res,
        apply ? 'Ignore' : fieldValidation,
        info,
        result,
        apply ? [] : duplicates,
        'patch',
      );
      patched.metadata = { ...(patched.metadata ?? {}), resourceVersion: current.metadata.resourceVersion };
      try {
        await this.#o.admit?.({
          info,
          namespace: ns,
          operation: 'UPDATE',
          object: patched,
          old: current,
          user,
          subresource: t.subresource,
          dryRun,
        });
        const updated = await registry.update(info, ns, t.name!, patched, { dryRun, subresource: t.subresource });
        return this.#respondWritten(req, res, q, info, updated, 200);
      } catch (error) {
        if (error instanceof StatusError && error.code === 409 && error.reason === 'Conflict' && attempt < 5) continue;
        throw error;
      }
    }
  }

  async #scale(
    req: IncomingMessage,
    res: ServerResponse,
    _q: URLSearchParams,
    t: Target,
    dryRun: boolean,
  ): Promise<void> {
    const registry = this.#o.registry;
    const method = req.method ?? 'GET';
    const object = await registry.get(t.info, t.namespace, t.name!);
    const scale = toScale(object);
    const encoding = negotiate(req).encoding;
    if (method === 'GET') return writeBody(res, 200, scale, encoding);
    let wanted: unknown;
    if (method === 'PUT') wanted = decodeBody(await readBody(req), mediaType(req));
    else if (method === 'PATCH') {
      if (!PATCH_TYPES.includes(mediaType(req))) throw unsupportedPatchType(mediaType(req));
      wanted = applyPatch(
        mediaType(req) === 'application/apply-patch+yaml' ? 'application/merge-patch+json' : mediaType(req),
        'Scale',
        scale,
        decodeBody(await readBody(req), mediaType(req)),
      );
      checkPatchResult(wanted);
    } else throw methodNotSupported(t.info, method.toLowerCase());
    const replicas = getOwn(getOwn(wanted, 'spec'), 'replicas');
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0 || replicas > 2 ** 31 - 1) {
      throw invalid({ group: 'autoscaling', kind: 'Scale' }, t.name!, [
        {
          reason: 'FieldValueInvalid',
          field: 'spec.replicas',
          message: `Invalid value: ${JSON.stringify(replicas ?? null)}: must be a non-negative 32-bit integer`,
        },
      ]);
    }
    const rv = method === 'PUT' ? getOwn(getOwn(wanted, 'metadata'), 'resourceVersion') : undefined;
    const next = {
      ...object,
      spec: { ...(isPlainObject(object.spec) ? object.spec : {}), replicas },
      metadata: { ...object.metadata, resourceVersion: rv ? displayValue(rv) : object.metadata.resourceVersion },
    };
    const updated = await registry.update(t.info, t.namespace, t.name!, next, { dryRun });
    writeBody(res, 200, toScale(updated), encoding);
  }

  async #bind(req: IncomingMessage, res: ServerResponse, q: URLSearchParams, t: Target): Promise<void> {
    const { dryRun, fieldValidation } = writeQuery(q, 'CreateOptions');
    const binding = await this.#objectBody(req, res, fieldValidation, { ...t.info, kind: 'Binding' });
    await this.#o.registry.bind(t.namespace!, t.name!, asBinding(binding), { dryRun });
    writeBody(
      res,
      201,
      { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 },
      negotiate(req).encoding,
    );
  }

  async #watch(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    t: Target,
    options: ListQueryOptions,
  ): Promise<void> {
    const registry = this.#o.registry;
    const ns = t.info.namespaced ? t.namespace : undefined;
    const filter = registry.filter(t.info, {
      labelSelector: q.get('labelSelector') ?? undefined,
      fieldSelector: q.get('fieldSelector') ?? undefined,
    });
    const negotiated = negotiate(req, { stream: true });
    const table = negotiated.transform?.kind === 'Table' ? negotiated.transform.version : undefined;
    const includeObject = q.get('includeObject') ?? 'Metadata';
    let sentColumns = false;
    const render = table
      ? (object: Stored<ApiObject>) => {
          const t2 = tableOf(t.info, [object], table, includeObject, '', sentColumns);
          sentColumns = true;
          return t2;
        }
      : negotiated.transform
        ? (object: Stored<ApiObject>) => partialObjectMetadata(object, negotiated.transform!.version)
        : (object: Stored<ApiObject>) => object;
    // As upstream's --min-request-timeout (1800 s): a watch without its own timeout ends after 30 to 60 minutes.
    const timeoutSeconds =
      options.timeoutSeconds !== undefined && options.timeoutSeconds > 0
        ? options.timeoutSeconds
        : 1800 + Math.floor(Math.random() * 1800);
    await serveWatch(res, registry, {
      info: t.info,
      namespace: ns,
      resourceVersion: options.resourceVersion,
      filter,
      render,
      encoding: watchEncoding(negotiated.encoding),
      bookmarks: options.allowWatchBookmarks,
      timeoutSeconds,
    });
  }

  #respondList(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    info: ResourceInfo,
    all: Stored<ApiObject>[],
    revision: number,
    options: ListQueryOptions,
  ): void {
    const { encoding, transform } = negotiate(req);
    const page = paginate(all, revision, options, (o) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`);
    const metadata: Record<string, unknown> = { resourceVersion: String(revision) };
    if (page.continueToken) metadata.continue = page.continueToken;
    if (page.remaining !== undefined && !q.get('labelSelector') && !q.get('fieldSelector'))
      metadata.remainingItemCount = page.remaining;
    const items = page.items;
    if (transform?.kind === 'Table')
      return writeBody(
        res,
        200,
        {
          ...tableOf(info, items, transform.version, q.get('includeObject') ?? 'Metadata', String(revision), false),
          metadata,
        },
        encoding,
      );
    if (transform) {
      const list = {
        kind: 'PartialObjectMetadataList',
        apiVersion: `meta.k8s.io/${transform.version}`,
        metadata,
        items: items.map((o) => partialObjectMetadata(o, transform.version)),
      };
      return writeBody(res, 200, list, encoding);
    }
    writeBody(res, 200, { kind: info.listKind, apiVersion: groupVersion(info), metadata, items }, encoding);
  }

  async #respondWritten(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    info: ResourceInfo,
    object: Stored<ApiObject>,
    code: number,
  ): Promise<void> {
    await this.#o.written?.(info, object);
    this.#respondObject(req, res, q, info, object, code);
  }

  #respondObject(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    info: ResourceInfo,
    object: Stored<ApiObject>,
    code: number,
  ): void {
    const { encoding, transform } = negotiate(req);
    const get = (req.method ?? 'GET') === 'GET';
    if (transform?.kind === 'Table' && get)
      return writeBody(
        res,
        code,
        tableOf(
          info,
          [object],
          transform.version,
          q.get('includeObject') ?? 'Metadata',
          object.metadata?.resourceVersion ?? '',
          false,
        ),
        encoding,
      );
    if (transform && transform.kind !== 'Table' && get)
      return writeBody(res, code, partialObjectMetadata(object, transform.version), encoding);
    writeBody(res, code, object, encoding);
  }

  respondError(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    let status: StatusError;
    if (error instanceof StatusError) status = error;
    else {
      this.#o.logger.error('Unhandled error', {
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      });
      status = internalError(error instanceof Error ? error.message : String(error));
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    let encoding: 'json' | 'yaml' | 'protobuf' = 'json';
    try {
      encoding = negotiate(req).encoding;
    } catch (negotiationError) {
      if (!(negotiationError instanceof StatusError)) throw negotiationError;
    }
    writeBody(res, status.code, status.status, encoding);
  }
}

/** partialObjectMetadata is the `as=PartialObjectMetadata` form of an object: its kind and metadata only. */
function partialObjectMetadata(object: KubeObject, version: string): object {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: object.metadata };
}

function tableOf(
  info: ResourceInfo,
  objects: Stored<ApiObject>[],
  version: string,
  includeObject: string,
  resourceVersion: string,
  omitColumns: boolean,
): object {
  const { columnDefinitions, rows } = printTable(info.resource, objects, new Date());
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${version}`,
    metadata: { resourceVersion },
    columnDefinitions: omitColumns ? [] : columnDefinitions,
    rows: rows.map((row, i) => ({
      cells: row.cells,
      object:
        includeObject === 'None'
          ? undefined
          : includeObject === 'Object'
            ? objects[i]
            : { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: objects[i]?.metadata },
    })),
  };
}

function toScale(object: Stored<ApiObject>): object {
  const spec = getOwn(object, 'spec');
  const selectorField = getOwn(spec, 'selector');
  // A ReplicationController selects by a label map, the others by a LabelSelector's matchLabels.
  const selector = object.kind === 'ReplicationController' ? selectorField : getOwn(selectorField, 'matchLabels');
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: object.metadata.name,
      namespace: object.metadata.namespace,
      uid: object.metadata.uid,
      resourceVersion: object.metadata.resourceVersion,
      creationTimestamp: object.metadata.creationTimestamp,
    },
    spec: { replicas: getOwn(spec, 'replicas') ?? 0 },
    status: {
      replicas: getOwn(getOwn(object, 'status'), 'replicas') ?? 0,
      selector: Object.entries(isPlainObject(selector) ? selector : {})
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    },
  };
}

const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];

/** unsupportedPatchType is upstream's 415 for a PATCH whose Content-Type is no patch format. */
function unsupportedPatchType(type: string): StatusError {
  const status = unsupportedMediaType(type).status;
  return new StatusError({
    ...status,
    message: `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.join(', ')}`,
  });
}

/** shortJson quotes a value for a message, cut after 64 characters (upstream would quote the whole patched object). */
function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}...` : text);
}

/** withCauses adds field causes to a Status error (upstream's decode errors carry none; the path helps clients). */
function withCauses(error: StatusError, causes: StatusCause[]): StatusError {
  return new StatusError({ ...error.status, details: { ...error.status.details, causes } });
}

/** checkPatchResult refuses a patch whose result is no object (`[{"op":"replace","path":"","value":5}]`), as upstream's decode does. */
function checkPatchResult(patched: unknown): asserts patched is JsonObject {
  if (depthOf(patched) > MAX_NESTING_DEPTH) throw badRequest(`json: exceeded max depth of ${MAX_NESTING_DEPTH}`);
  if (isPlainObject(patched)) return;
  const text = JSON.stringify(patched) ?? 'null';
  throw invalid({ group: '', kind: '' }, '', [
    {
      reason: 'FieldValueInvalid',
      field: 'patch',
      message: `Invalid value: ${JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}...` : text)}: couldn't get version/kind; json parse error: json: cannot unmarshal ${Array.isArray(patched) ? 'array' : patched === null ? 'null' : typeof patched} into Go value of type struct { APIVersion string "json:"apiVersion,omitempty""; Kind string "json:"kind,omitempty"" }`,
    },
  ]);
}

/**
 * asBinding views a decoded pods/binding body as a Binding: typedDecode kept only the Binding schema's fields with
 * their types, and target (its one required member) reads as empty when absent, for the registry's 422.
 */
function asBinding(decoded: unknown): Binding {
  const binding = (isPlainObject(decoded) ? decoded : {}) as Partial<Binding>;
  return { ...binding, target: binding.target ?? {} };
}

/** paginate serves `limit` and `continue`: items in key order after the token's key, and a token for the rest. */
function paginate<T>(
  items: T[],
  revision: number,
  options: ListQueryOptions,
  keyOf: (o: T) => string,
): { items: T[]; continueToken?: string; remaining?: number } {
  let rest = items;
  if (options.continueToken !== undefined) {
    const token = decodeContinue(options.continueToken);
    rest = items.filter((o) => keyOf(o) > token.start);
  }
  if (options.limit === undefined || rest.length <= options.limit) return { items: rest };
  const page = rest.slice(0, options.limit);
  return {
    items: page,
    continueToken: encodeContinue({ rv: revision, start: keyOf(page[page.length - 1]) }),
    remaining: rest.length - page.length,
  };
}

function json(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function text(res: ServerResponse, code: number, body: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export { http };

/** requestInfo names a resource request the way upstream's metrics and audit do (verb, resource, scope). */
function requestInfo(method: string, url: URL, t: Target): RequestInfo {
  const q = url.searchParams;
  const watch = q.get('watch') === 'true' || q.get('watch') === '1';
  const collection = t.name === undefined;
  const verbs: Record<string, string> = {
    GET: collection ? (watch ? 'watch' : 'list') : 'get',
    POST: 'create',
    PUT: 'update',
    PATCH: 'patch',
    DELETE: collection ? 'deletecollection' : 'delete',
  };
  return {
    verb: verbs[method] ?? method.toLowerCase(),
    group: t.info.group,
    version: t.info.version,
    resource: t.info.resource,
    subresource: t.subresource ?? '',
    scope: !collection ? 'resource' : t.namespace !== undefined ? 'namespace' : 'cluster',
    dryRun: q.getAll('dryRun').includes('All'),
  };
}
