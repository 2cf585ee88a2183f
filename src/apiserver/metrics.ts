import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from './storage/store.ts';

/**
 * ApiServerMetrics holds the API server's metrics under upstream's names (prom-client renders the Prometheus text
 * format): requests by verb, resource, scope and code with their durations, requests in flight, long-running
 * requests (open watches), and storage call durations (`etcd_request_duration_seconds`, named so
 * whatever the store, as k3s's kine does).
 */
export class ApiServerMetrics {
  readonly registry = new Registry();
  #requests = new Counter({
    name: 'apiserver_request_total',
    help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
    labelNames: ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component', 'code'],
    registers: [this.registry],
  });
  #durations = new Histogram({
    name: 'apiserver_request_duration_seconds',
    help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
    labelNames: ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component'],
    buckets: [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60],
    registers: [this.registry],
  });
  #inflight = new Gauge({
    name: 'apiserver_current_inflight_requests',
    help: 'Maximal number of currently used inflight request limit of this apiserver per request kind in last second.',
    labelNames: ['request_kind'],
    registers: [this.registry],
  });
  #longRunning = new Gauge({
    name: 'apiserver_longrunning_requests',
    help: 'Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component.',
    labelNames: ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'component'],
    registers: [this.registry],
  });
  #storage = new Histogram({
    name: 'etcd_request_duration_seconds',
    help: 'Etcd request latency in seconds for each operation and object type.',
    labelNames: ['operation', 'type'],
    buckets: [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60],
    registers: [this.registry],
  });
  #described = new WeakMap<ServerResponse, RequestInfo>();

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** describe tells what a request is once the handler has parsed it; undescribed requests count as non-resource. */
  describe(res: ServerResponse, info: RequestInfo): void {
    this.#described.set(res, info);
    if (info.verb === 'watch') {
      const labels = resourceLabels(info);
      this.#longRunning.inc(labels);
      res.once('close', () => this.#longRunning.dec(labels));
    }
  }

  /** track counts a request from its start until its response is finished (or its connection closes). */
  track(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const kind = req.method === 'GET' || req.method === 'HEAD' ? 'readOnly' : 'mutating';
    this.#inflight.inc({ request_kind: kind });
    res.once('close', () => {
      this.#inflight.dec({ request_kind: kind });
      const info = this.#described.get(res) ?? {
        verb: (req.method ?? 'GET').toUpperCase(),
        group: '',
        version: '',
        resource: '',
        subresource: '',
        scope: '',
      };
      const labels = { ...resourceLabels(info), dry_run: info.dryRun ? 'All' : '' };
      this.#requests.inc({ ...labels, code: String(res.statusCode) });
      this.#durations.observe(labels, (performance.now() - started) / 1000);
    });
  }

  /** instrumentStore wraps a store so every call is timed under its operation and the object type of its key. */
  instrumentStore(store: Store): Store {
    const timed = <T>(operation: string, key: string, call: () => Promise<T>): Promise<T> => {
      const end = this.#storage.startTimer({ operation, type: objectType(key) });
      return call().finally(() => end());
    };
    return {
      currentRevision: () => store.currentRevision(),
      get: (key) => timed('get', key, () => store.get(key)),
      list: (prefix) => timed('listWithCount', prefix, () => store.list(prefix)),
      create: (key, value) => timed('create', key, () => store.create(key, value)),
      update: (key, value, expected) => timed('update', key, () => store.update(key, value, expected)),
      delete: (key, expected) => timed('delete', key, () => store.delete(key, expected)),
      watch: (prefix, from, onEvent, options) => store.watch(prefix, from, onEvent, options),
      compact: (revision) => store.compact(revision),
      close: () => store.close(),
    };
  }

  /** render is the Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}

/** RequestInfo is what upstream's request info resolver derives from a URL: the verb and the resource it acts on. */
export interface RequestInfo {
  /** Upstream's verbs: get, list, watch, create, update, patch, apply, delete, deletecollection. */
  verb: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  /** `resource` (one object), `namespace` (a namespace's collection) or `cluster` (all of them). */
  scope: string;
  dryRun?: boolean;
}

function resourceLabels(info: RequestInfo) {
  return {
    verb: info.verb.toUpperCase(),
    group: info.group,
    version: info.version,
    resource: info.resource,
    subresource: info.subresource,
    scope: info.scope,
    component: 'apiserver',
  };
}

/** objectType names the kind stored under a key (`/registry/services/specs/ns/name` → `services`). */
function objectType(key: string): string {
  const parts = key.split('/').filter(Boolean);
  return parts[0] === 'registry' ? (parts[1] ?? '') : (parts[0] ?? '');
}
