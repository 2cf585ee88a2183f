import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
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

/** How many revisions of history the store keeps for watchers by default before compacting automatically. */
export const DEFAULT_HISTORY = 10_000;

interface Watcher {
  prefix: string;
  onEvent: (event: WatchEvent) => void;
}

/**
 * SqliteStore is the embedded backend: one SQLite file in WAL mode with `synchronous=FULL`, so a write is on disk
 * before it is acknowledged. Like k3s's kine it keeps a revision log (every write is a row; its rowid is the
 * revision) beside a table of current values; watches replay the log and then receive live writes in-process.
 */
export class SqliteStore implements Store {
  #db: DatabaseSync;
  #watchers = new Set<Watcher>();
  #revision: number;
  #compacted: number;
  #writesSinceCompact = 0;
  #history: number;
  #q: Record<string, StatementSync>;

  constructor(path: string, options: { history?: number } = {}) {
    this.#history = options.history ?? DEFAULT_HISTORY;
    this.#db = new DatabaseSync(path);
    this.#db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
      CREATE TABLE IF NOT EXISTS log (rev INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, value TEXT NOT NULL, deleted INTEGER NOT NULL, created INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS log_key ON log (key, rev);
      CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, mod_rev INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `);
    const q = (sql: string) => this.#db.prepare(sql);
    this.#q = {
      get: q('SELECT key, value, mod_rev FROM kv WHERE key = ?'),
      list: q('SELECT key, value, mod_rev FROM kv WHERE key >= ? AND key < ? ORDER BY key'),
      append: q('INSERT INTO log (key, value, deleted, created) VALUES (?, ?, ?, ?)'),
      put: q(
        'INSERT INTO kv (key, value, mod_rev) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, mod_rev = excluded.mod_rev',
      ),
      remove: q('DELETE FROM kv WHERE key = ?'),
      history: q(
        'SELECT rev, key, value, deleted, created FROM log WHERE rev > ? AND key >= ? AND key < ? ORDER BY rev',
      ),
      maxRev: q('SELECT COALESCE(MAX(rev), 0) AS rev FROM log'),
      seq: q("SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'log'), 0) AS rev"),
      compactedGet: q("SELECT value FROM meta WHERE name = 'compacted'"),
      compactedSet: q(
        "INSERT INTO meta (name, value) VALUES ('compacted', ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
      ),
      trim: q('DELETE FROM log WHERE rev <= ?'),
    };
    this.#revision = Number((this.#q.seq!.get() as { rev: number }).rev);
    this.#compacted = Number((this.#q.compactedGet!.get() as { value: number } | undefined)?.value ?? 0);
  }

  async currentRevision(): Promise<number> {
    return this.#revision;
  }

  async get(key: string): Promise<StoredValue | undefined> {
    return this.#read(key);
  }

  async list(prefix: string): Promise<{ items: StoredValue[]; revision: number }> {
    const rows = this.#q.list!.all(prefix, prefixEnd(prefix)) as { key: string; value: string; mod_rev: number }[];
    return {
      items: rows.map((r) => ({ key: r.key, value: r.value, modRevision: Number(r.mod_rev) })),
      revision: this.#revision,
    };
  }

  async create(key: string, value: string): Promise<number> {
    if (this.#read(key)) throw new KeyExistsError(key);
    return this.#write(key, value, { deleted: false, created: true });
  }

  async update(key: string, value: string, expectedRevision: number): Promise<number> {
    const current = this.#read(key);
    if (!current) throw new KeyNotFoundError(key);
    if (current.modRevision !== expectedRevision) throw new RevisionConflictError(key, current.modRevision);
    return this.#write(key, value, { deleted: false, created: false });
  }

  async delete(key: string, expectedRevision?: number): Promise<{ value: string; revision: number }> {
    const current = this.#read(key);
    if (!current) throw new KeyNotFoundError(key);
    if (expectedRevision !== undefined && current.modRevision !== expectedRevision)
      throw new RevisionConflictError(key, current.modRevision);
    const revision = this.#write(key, current.value, { deleted: true, created: false });
    return { value: current.value, revision };
  }

  watch(prefix: string, fromRevision: number, onEvent: (event: WatchEvent) => void, options: WatchOptions): void {
    if (fromRevision < this.#compacted) {
      options.onError(new CompactedError(fromRevision, this.#compacted));
      return;
    }
    // Replay and subscribe in the same synchronous turn: no write can slip in between.
    const rows = this.#q.history!.all(fromRevision, prefix, prefixEnd(prefix)) as {
      rev: number;
      key: string;
      value: string;
      deleted: number;
      created: number;
    }[];
    const watcher: Watcher = { prefix, onEvent };
    this.#watchers.add(watcher);
    options.signal.addEventListener('abort', () => this.#watchers.delete(watcher), { once: true });
    for (const r of rows) {
      onEvent({
        type: r.deleted ? 'DELETE' : 'PUT',
        key: r.key,
        value: r.value,
        revision: Number(r.rev),
        created: r.created === 1,
      });
    }
  }

  async compact(revision: number): Promise<void> {
    if (revision <= this.#compacted) return;
    this.#db.exec('BEGIN');
    try {
      this.#q.trim!.run(revision);
      this.#q.compactedSet!.run(revision);
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
    this.#compacted = revision;
  }

  async close(): Promise<void> {
    this.#watchers.clear();
    this.#db.close();
  }

  #read(key: string): StoredValue | undefined {
    const row = this.#q.get!.get(key) as { key: string; value: string; mod_rev: number } | undefined;
    return row ? { key: row.key, value: row.value, modRevision: Number(row.mod_rev) } : undefined;
  }

  /** #write appends to the log and updates the current value in one durable transaction, then tells watchers. */
  #write(key: string, value: string, flags: { deleted: boolean; created: boolean }): number {
    this.#db.exec('BEGIN IMMEDIATE');
    let revision: number;
    try {
      const result = this.#q.append!.run(key, value, flags.deleted ? 1 : 0, flags.created ? 1 : 0);
      revision = Number(result.lastInsertRowid);
      if (flags.deleted) this.#q.remove!.run(key);
      else this.#q.put!.run(key, value, revision);
      this.#db.exec('COMMIT');
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
    this.#revision = revision;
    const event: WatchEvent = { type: flags.deleted ? 'DELETE' : 'PUT', key, value, revision, created: flags.created };
    for (const w of this.#watchers) if (key.startsWith(w.prefix)) w.onEvent(event);
    // Compact in steps of a tenth of the history kept, so the log stays bounded without work on every write.
    if (++this.#writesSinceCompact >= Math.max(1, Math.ceil(this.#history / 10))) {
      this.#writesSinceCompact = 0;
      if (revision - this.#history > this.#compacted) void this.compact(revision - this.#history);
    }
    return revision;
  }
}

/** openSqliteStore opens (or creates) `<dataDir>/state.db`. */
export function openSqliteStore(options: { dataDir: string; history?: number }): SqliteStore {
  mkdirSync(options.dataDir, { recursive: true });
  return new SqliteStore(join(options.dataDir, 'state.db'), { history: options.history });
}

function prefixEnd(prefix: string): string {
  return `${prefix}\u{10FFFF}`;
}
