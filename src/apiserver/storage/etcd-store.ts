import type { Etcd3, IKeyValue } from 'etcd3';
import {
  CompactedError,
  KeyExistsError,
  KeyNotFoundError,
  RevisionConflictError,
  type Store,
  type StoredValue,
  type WatchEvent,
  type WatchOptions,
} from './store.ts';

/** Keys per page of a list. */
const LIST_PAGE = 1000;

/**
 * EtcdStore keeps objects in etcd v3 with the same semantics as the SQLite backend: etcd's own revision is the
 * resourceVersion, creates and preconditioned writes are transactions comparing version or mod_revision, and
 * watches start at the revision after the one asked for, with the previous value for deletes.
 */
export class EtcdStore implements Store {
  #client: Etcd3;

  constructor(client: Etcd3) {
    this.#client = client;
  }

  async currentRevision(): Promise<number> {
    const res = await this.#client.kv.range({ key: Buffer.from('\0'), limit: 1 });
    return Number(res.header.revision);
  }

  async get(key: string): Promise<StoredValue | undefined> {
    const res = await this.#client.kv.range({ key: Buffer.from(key) });
    const kv = res.kvs[0];
    return kv ? toStored(kv) : undefined;
  }

  /**
   * list reads the prefix in pages (a big list would pass gRPC's message size limit), all at the revision of the
   * first page, so the result is one consistent snapshot.
   */
  async list(prefix: string): Promise<{ items: StoredValue[]; revision: number }> {
    const items: StoredValue[] = [];
    const end = prefixEnd(prefix);
    let from = Buffer.from(prefix);
    let revision: string | undefined;
    for (;;) {
      const res = await this.#client.kv.range({
        key: from,
        range_end: end,
        limit: String(LIST_PAGE),
        sort_target: 'Key',
        sort_order: 'Ascend',
        ...(revision ? { revision } : {}),
      });
      revision ??= res.header.revision;
      items.push(...res.kvs.map(toStored));
      if (!res.more || res.kvs.length === 0) return { items, revision: Number(revision) };
      from = Buffer.concat([res.kvs[res.kvs.length - 1]!.key, Buffer.from([0])]);
    }
  }

  async create(key: string, value: string): Promise<number> {
    const res = await this.#client.kv.txn({
      compare: [{ key: Buffer.from(key), target: 'Version', result: 'Equal', version: '0' }],
      success: [{ request_put: { key: Buffer.from(key), value: Buffer.from(value) } }],
      failure: [],
    });
    if (!res.succeeded) throw new KeyExistsError(key);
    return Number(res.header.revision);
  }

  async update(key: string, value: string, expectedRevision: number): Promise<number> {
    const res = await this.#client.kv.txn({
      compare: [{ key: Buffer.from(key), target: 'Mod', result: 'Equal', mod_revision: String(expectedRevision) }],
      success: [{ request_put: { key: Buffer.from(key), value: Buffer.from(value) } }],
      failure: [{ request_range: { key: Buffer.from(key) } }],
    });
    if (res.succeeded) return Number(res.header.revision);
    const current = res.responses[0]?.response_range?.kvs[0];
    if (!current) throw new KeyNotFoundError(key);
    throw new RevisionConflictError(key, Number(current.mod_revision));
  }

  async delete(key: string, expectedRevision?: number): Promise<{ value: string; revision: number }> {
    const compare =
      expectedRevision === undefined
        ? [{ key: Buffer.from(key), target: 'Version' as const, result: 'Greater' as const, version: '0' }]
        : [
            {
              key: Buffer.from(key),
              target: 'Mod' as const,
              result: 'Equal' as const,
              mod_revision: String(expectedRevision),
            },
          ];
    const res = await this.#client.kv.txn({
      compare,
      success: [{ request_delete_range: { key: Buffer.from(key), prev_kv: true } }],
      failure: [{ request_range: { key: Buffer.from(key) } }],
    });
    if (res.succeeded) {
      const prev = res.responses[0]?.response_delete_range?.prev_kvs[0];
      return { value: prev ? prev.value.toString() : '', revision: Number(res.header.revision) };
    }
    const current = res.responses[0]?.response_range?.kvs[0];
    if (!current) throw new KeyNotFoundError(key);
    throw new RevisionConflictError(key, Number(current.mod_revision));
  }

  watch(prefix: string, fromRevision: number, onEvent: (event: WatchEvent) => void, options: WatchOptions): void {
    let failed = false;
    const fail = (error: Error) => {
      if (failed || options.signal.aborted) return;
      failed = true;
      options.onError(error);
    };
    this.#client
      .watch()
      .prefix(prefix)
      .startRevision(String(fromRevision + 1))
      .withPreviousKV()
      .create()
      .then(
        (watcher) => {
          if (options.signal.aborted) return void watcher.cancel();
          options.signal.addEventListener('abort', () => void watcher.cancel().catch(() => undefined), { once: true });
          watcher.on('data', (res) => {
            if (res.compact_revision && Number(res.compact_revision) > 0)
              return fail(new CompactedError(fromRevision, Number(res.compact_revision) - 1));
            for (const e of res.events) {
              const revision = Number(e.kv.mod_revision);
              if (e.type === 'Delete') {
                onEvent({
                  type: 'DELETE',
                  key: e.kv.key.toString(),
                  value: e.prev_kv ? e.prev_kv.value.toString() : '{}',
                  revision,
                  created: false,
                });
              } else {
                onEvent({
                  type: 'PUT',
                  key: e.kv.key.toString(),
                  value: e.kv.value.toString(),
                  revision,
                  created: e.kv.version === '1',
                });
              }
            }
          });
          watcher.on('error', (error: Error) => {
            // etcd cancels a watch for compaction with no reason text (the etcd3 client drops compact_revision).
            if (/compacted|^Watcher canceled: ?$/i.test(error.message))
              fail(new CompactedError(fromRevision, fromRevision));
            else fail(error);
          });
        },
        (error: Error) =>
          fail(/compacted/i.test(error.message) ? new CompactedError(fromRevision, fromRevision) : error),
      );
  }

  async compact(revision: number): Promise<void> {
    await this.#client.kv.compact({ revision: String(revision), physical: true });
  }

  async close(): Promise<void> {
    this.#client.close();
  }
}

/**
 * openEtcdStore connects to etcd (endpoints like `http://127.0.0.1:2379`). The etcd3 package (gRPC) is loaded only
 * here, so an API server on SQLite starts without it.
 */
export async function openEtcdStore(options: { endpoints: string[] }): Promise<EtcdStore> {
  const { Etcd3 } = await import('etcd3');
  return new EtcdStore(
    new Etcd3({ hosts: options.endpoints.map((e) => e.replace(/^https?:\/\//, '')), dialTimeout: 5000 }),
  );
}

function toStored(kv: IKeyValue): StoredValue {
  return { key: kv.key.toString(), value: kv.value.toString(), modRevision: Number(kv.mod_revision) };
}

function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
