import type { KubeObject, Stored } from '../api/objects.ts';
import type { ResourceInfo } from '../api/resources.ts';
import { isStatusError } from '../api/status.ts';
import type { Logger } from '../log/klog.ts';
import type { RestClient } from './rest-client.ts';
import type { Resource } from './typed-resources.ts';
import { sleep } from '../util/wait.ts';

/** InformerHandlers receive the cache's changes; `old` is the cached object before the change. */
export interface InformerHandlers<T> {
  onAdd?(object: T): void;
  onUpdate?(old: T, object: T): void;
  onDelete?(object: T): void;
  /** Called after every batch (initial list, relist, each watch event): a good place to queue a sync. */
  onChange?(): void;
}

/** onEveryChange is handlers that call fn with the object on every add, update (the new object) and delete. */
export function onEveryChange<T>(fn: (object: T) => void): InformerHandlers<T> {
  return { onAdd: fn, onUpdate: (_old, object) => fn(object), onDelete: fn };
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  logger?: Logger;
  /**
   * Delay before re-watching after an error (default 100 ms), doubling up to maxBackoffMs (default 800 ms): a
   * restarted API server is found again within a second of coming back, so Services created right after reach nodes.
   */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * Informer keeps a local cache of one resource in step with the API server, as client-go's does: list, then watch
 * from the list's resourceVersion, re-watch from the last seen version when a stream ends, and relist (diffing the
 * cache) when the server answers 410 Gone. It survives restarts of the API server by retrying with back-off.
 */
export class Informer<T extends KubeObject = Stored<KubeObject>> {
  readonly info: ResourceInfo;
  #client: RestClient;
  #options: InformerOptions;
  #handlers: InformerHandlers<T>[];
  #cache = new Map<string, T>();
  #resourceVersion = '';
  #synced = false;
  #syncWaiters: (() => void)[] = [];
  #abort = new AbortController();
  #running: Promise<void> | undefined;

  constructor(
    client: RestClient,
    info: ResourceInfo & Resource<T>,
    handlers: InformerHandlers<T>,
    options: InformerOptions = {},
  ) {
    this.#client = client;
    this.info = info;
    this.#handlers = [handlers];
    this.#options = options;
  }

  /** addHandlers subscribes another consumer (informers are shared by the controllers of one process). */
  addHandlers(handlers: InformerHandlers<T>): this {
    this.#handlers.push(handlers);
    return this;
  }

  /** start begins listing and watching in the background. */
  start(): this {
    this.#running ??= this.#loop();
    return this;
  }

  /** stop ends the watch; the cache keeps its last content. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /** waitForSync resolves once the first list is in the cache. */
  waitForSync(): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  /** list returns the cached objects. */
  list(): T[] {
    return [...this.#cache.values()];
  }

  /** get returns a cached object by `namespace/name` (or `name` for cluster-scoped resources). */
  get(key: string): T | undefined {
    return this.#cache.get(key);
  }

  /** lastSyncResourceVersion is the resourceVersion of the last list or watch event seen. */
  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  async #loop(): Promise<void> {
    const signal = this.#abort.signal;
    const log = this.#options.logger;
    let backoff = this.#options.backoffMs ?? 100;
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.#relist();
          needList = false;
        }
        await this.#client.watch(
          this.info,
          {
            namespace: this.#options.namespace,
            labelSelector: this.#options.labelSelector,
            fieldSelector: this.#options.fieldSelector,
            resourceVersion: this.#resourceVersion,
            allowWatchBookmarks: true,
            signal,
          },
          // The decoding boundary (as for the list above): the watched objects are the informer's T.
          (type, object) => this.#apply(type, object as T),
        );
        backoff = this.#options.backoffMs ?? 100;
      } catch (error) {
        if (signal.aborted) break;
        if (isStatusError(error, 410)) {
          log?.v(2).info('Watch expired, relisting', { resource: this.info.resource });
          needList = true;
          continue;
        }
        log?.warning('Failed to watch, will retry', { resource: this.info.resource, error });
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, this.#options.maxBackoffMs ?? 800);
      }
    }
  }

  async #relist(): Promise<void> {
    const list = await this.#client.list(this.info, {
      namespace: this.#options.namespace,
      labelSelector: this.#options.labelSelector,
      fieldSelector: this.#options.fieldSelector,
    });
    const fresh = new Map<string, T>();
    for (const item of list.items as T[]) {
      // Lists may omit kind/apiVersion on items; fill them in like client-go's decoder does.
      const typeMeta: KubeObject = item;
      typeMeta.kind ??= this.info.kind;
      typeMeta.apiVersion ??= this.info.group === '' ? this.info.version : `${this.info.group}/${this.info.version}`;
      fresh.set(keyOf(item), item);
    }
    for (const [key, old] of this.#cache) {
      if (!fresh.has(key)) {
        this.#cache.delete(key);
        for (const h of this.#handlers) h.onDelete?.(old);
      }
    }
    for (const [key, item] of fresh) {
      const old = this.#cache.get(key);
      this.#cache.set(key, item);
      if (old === undefined) for (const h of this.#handlers) h.onAdd?.(item);
      else if (old.metadata?.resourceVersion !== item.metadata?.resourceVersion)
        for (const h of this.#handlers) h.onUpdate?.(old, item);
    }
    this.#resourceVersion = list.metadata?.resourceVersion ?? '';
    if (!this.#synced) {
      this.#synced = true;
      for (const resolve of this.#syncWaiters.splice(0)) resolve();
    }
    for (const h of this.#handlers) h.onChange?.();
  }

  #apply(type: string, object: T): void {
    if (object?.metadata?.resourceVersion) this.#resourceVersion = object.metadata.resourceVersion;
    if (type === 'BOOKMARK') return;
    const key = keyOf(object);
    const old = this.#cache.get(key);
    if (type === 'DELETED') {
      if (old === undefined) return;
      this.#cache.delete(key);
      for (const h of this.#handlers) h.onDelete?.(object);
    } else {
      this.#cache.set(key, object);
      if (old === undefined) for (const h of this.#handlers) h.onAdd?.(object);
      else for (const h of this.#handlers) h.onUpdate?.(old, object);
    }
    for (const h of this.#handlers) h.onChange?.();
  }
}

/** keyOf is the cache key of an object: `namespace/name`, or `name` when cluster-scoped. */
export function keyOf(object: { metadata?: { name?: string; namespace?: string } }): string {
  const ns = object.metadata?.namespace;
  return ns ? `${ns}/${object.metadata?.name}` : `${object.metadata?.name}`;
}
