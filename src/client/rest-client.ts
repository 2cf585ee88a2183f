import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { resourceByName, resourcePath, type ResourceInfo } from '../api/resources.ts';
import { StatusError, type Status } from '../api/status.ts';
import type { ClusterConnection } from './kubeconfig.ts';
import type { ListOf, ObjectOf, Resource, ResourceTypes } from './typed-resources.ts';

/** WatchEventType is the `type` of one watch event line. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  limit?: number;
}

export interface WatchOptions extends ListOptions {
  signal: AbortSignal;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
}

/** RequestOptions are one request's query, body and headers. */
export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
}

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

/**
 * RestClient speaks the Kubernetes REST conventions over HTTP(S) with JSON: one keep-alive connection pool per
 * client, every failure as a StatusError (a Status built locally when the server sent none).
 */
export class RestClient {
  readonly connection: ClusterConnection;
  readonly userAgent: string;
  #agent: http.Agent;
  #tokenRead = 0;
  #url: URL;

  constructor(connection: ClusterConnection, options: { userAgent?: string } = {}) {
    this.connection = connection;
    this.userAgent = options.userAgent ?? 'tskube';
    this.#url = new URL(connection.server);
    const tls = this.#url.protocol === 'https:';
    this.#agent = tls
      ? new https.Agent({
          keepAlive: true,
          ca: connection.ca,
          cert: connection.clientCert,
          key: connection.clientKey,
          rejectUnauthorized: !connection.insecureSkipTlsVerify,
        })
      : new http.Agent({ keepAlive: true });
  }

  /** resource looks up a served resource by plural name (`services`, `deployments`), optionally with its group. */
  resource(plural: string, group?: string): ResourceInfo {
    const groups =
      group !== undefined
        ? [group]
        : ['', 'apps', 'batch', 'discovery.k8s.io', 'coordination.k8s.io', 'networking.k8s.io'];
    for (const g of groups) {
      const info = resourceByName(g, plural);
      if (info) return info;
    }
    throw new RangeError(`Cannot find resource "${plural}": not served by tskube`);
  }

  /** typed is resource() for the kinds kubernetes-types describes: get, list, watch and informers on it are typed. */
  typed<R extends keyof ResourceTypes>(plural: R): Resource<ResourceTypes[R]> {
    return this.resource(plural);
  }

  /** request sends one HTTP request and parses the JSON answer; non-2xx answers throw StatusError. */
  async request<T = unknown>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.#send(method, path, options);
    const text = await readBody(res);
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) throw toStatusError(status, text, method, path);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  get<I extends ResourceInfo>(
    info: I,
    namespace: string | undefined,
    name: string,
    subresource?: string,
  ): Promise<ObjectOf<I>> {
    return this.request('GET', resourcePath(info, { namespace, name, subresource }));
  }

  list<I extends ResourceInfo>(info: I, options: ListOptions = {}): Promise<ListOf<I>> {
    return this.request('GET', resourcePath(info, { namespace: options.namespace }), { query: listQuery(options) });
  }

  create<I extends ResourceInfo>(
    info: I,
    namespace: string | undefined,
    object: unknown,
    options: { subresource?: string; name?: string; fieldManager?: string } = {},
  ): Promise<ObjectOf<I>> {
    const path = resourcePath(info, { namespace, name: options.name, subresource: options.subresource });
    return this.request('POST', path, { body: object, query: { fieldManager: options.fieldManager } });
  }

  /** update PUTs the object (optimistic concurrency on metadata.resourceVersion), or one of its subresources. */
  update<I extends ResourceInfo>(
    info: I,
    object: ObjectOf<I>,
    options: { subresource?: string; fieldManager?: string } = {},
  ): Promise<ObjectOf<I>> {
    const path = resourcePath(info, {
      namespace: object.metadata?.namespace,
      name: object.metadata?.name,
      subresource: options.subresource,
    });
    return this.request('PUT', path, { body: object, query: { fieldManager: options.fieldManager } });
  }

  patch<I extends ResourceInfo>(
    info: I,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    type: PatchType,
    options: { subresource?: string; fieldManager?: string; force?: boolean } = {},
  ): Promise<ObjectOf<I>> {
    const path = resourcePath(info, { namespace, name, subresource: options.subresource });
    return this.request('PATCH', path, {
      body: patch,
      contentType: PATCH_CONTENT_TYPES[type],
      query: { fieldManager: options.fieldManager, force: options.force },
    });
  }

  delete<T = unknown>(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    options: {
      propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
      gracePeriodSeconds?: number;
      preconditions?: { uid?: string; resourceVersion?: string };
    } = {},
  ): Promise<T> {
    return this.request('DELETE', resourcePath(info, { namespace, name }), { body: options });
  }

  /**
   * watch streams events to onEvent until the server ends the stream or signal aborts; it resolves when the stream
   * ends (so the caller re-watches) and rejects on a non-2xx answer (e.g. 410 Gone as a StatusError).
   */
  async watch<I extends ResourceInfo>(
    info: I,
    options: WatchOptions,
    onEvent: (type: WatchEventType, object: ObjectOf<I>) => void,
  ): Promise<void> {
    const query = {
      ...listQuery(options),
      watch: 'true',
      allowWatchBookmarks: options.allowWatchBookmarks ? 'true' : undefined,
      timeoutSeconds: options.timeoutSeconds,
    };
    const res = await this.#send('GET', resourcePath(info, { namespace: options.namespace }), {
      query,
      signal: options.signal,
    });
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300) throw toStatusError(status, await readBody(res), 'GET', info.resource);
    await new Promise<void>((resolve, reject) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) !== -1) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line === '') continue;
          let event: { type: WatchEventType; object: unknown };
          try {
            event = JSON.parse(line);
          } catch (error) {
            res.destroy();
            reject(new Error(`Cannot parse watch event from ${info.resource}: ${(error as Error).message}`));
            return;
          }
          if (event.type === 'ERROR') {
            res.destroy();
            const s = event.object as Status;
            reject(
              new StatusError({
                ...s,
                kind: 'Status',
                apiVersion: 'v1',
                metadata: {},
                status: 'Failure',
                code: s.code ?? 500,
              }),
            );
            return;
          }
          // The decoding boundary: a watch event's object is what the resource serves.
          onEvent(event.type, event.object as ObjectOf<I>);
        }
      });
      res.on('end', () => resolve());
      res.on('close', () => resolve());
      res.on('error', (error) => (options.signal.aborted ? resolve() : reject(error)));
    });
  }

  /** #currentToken is the bearer token; one from a file is re-read at most once a minute, as client-go does. */
  #currentToken(): string | undefined {
    const file = this.connection.tokenFile;
    if (!file || Date.now() - this.#tokenRead < 60_000) return this.connection.token;
    this.#tokenRead = Date.now();
    try {
      this.connection.token = readFileSync(file, 'utf8').trim();
    } catch {
      // Keep the last token: the file may be between two writes of the kubelet.
    }
    return this.connection.token;
  }

  /** close drops pooled connections. */
  close(): void {
    this.#agent.destroy();
  }

  #send(method: string, path: string, options: RequestOptions): Promise<http.IncomingMessage> {
    const url = new URL(this.#url.pathname.replace(/\/$/, '') + path, this.#url);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const body =
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body);
    const headers: Record<string, string> = {
      Accept: options.accept ?? 'application/json',
      'User-Agent': this.userAgent,
    };
    if (body !== undefined) {
      headers['Content-Type'] = options.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const token = this.#currentToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request(url, { method, headers, agent: this.#agent, signal: options.signal }, resolve);
      req.on('error', reject);
      req.end(body);
    });
  }
}

function listQuery(options: ListOptions): Record<string, string | number | undefined> {
  return {
    labelSelector: options.labelSelector,
    fieldSelector: options.fieldSelector,
    resourceVersion: options.resourceVersion,
    limit: options.limit,
  };
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (b: Buffer) => chunks.push(b));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

function toStatusError(code: number, text: string, method: string, path: string): StatusError {
  try {
    const parsed = JSON.parse(text);
    if (parsed?.kind === 'Status') return new StatusError(parsed as Status);
  } catch {
    // not a Status body: build one below
  }
  return new StatusError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    code,
    reason: code === 404 ? 'NotFound' : 'Unknown',
    message: `the server responded with status ${code} (${method} ${path}): ${text.slice(0, 200)}`,
  });
}
