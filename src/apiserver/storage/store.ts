/**
 * Store is the one storage interface of the API server. Two backends implement it with identical semantics:
 * embedded SQLite (the default) and etcd v3. Keys are strings like `/registry/services/default/nsvc`; values are
 * JSON text of the object without `metadata.resourceVersion` (the store's revision is the resourceVersion).
 *
 * Revisions are one global, strictly increasing counter shared by every key (etcd's model): each successful write
 * gets the next revision, and that revision is the object's resourceVersion.
 */
export interface Store {
  /** The current revision (the highest revision written so far, or the revision at startup). */
  currentRevision(): Promise<number>;
  /** get returns the value and its modRevision, or undefined when the key does not exist. */
  get(key: string): Promise<StoredValue | undefined>;
  /** list returns every key that starts with prefix, sorted by key, and the revision it was read at. */
  list(prefix: string): Promise<{ items: StoredValue[]; revision: number }>;
  /** create writes key only if it does not exist; throws KeyExistsError otherwise. Returns the new revision. */
  create(key: string, value: string): Promise<number>;
  /**
   * update writes key only if its current modRevision equals expectedRevision (optimistic concurrency);
   * throws KeyNotFoundError when absent and RevisionConflictError when it moved on. Returns the new revision.
   */
  update(key: string, value: string, expectedRevision: number): Promise<number>;
  /**
   * delete removes key, optionally only if its modRevision equals expectedRevision. Returns the deleted value and
   * the revision of the delete; throws KeyNotFoundError when absent and RevisionConflictError on a precondition miss.
   */
  delete(key: string, expectedRevision?: number): Promise<{ value: string; revision: number }>;
  /**
   * watch delivers every change under prefix with revision > fromRevision, in revision order, then live changes,
   * until signal aborts. Throws (or calls onError with) CompactedError when fromRevision is older than the oldest
   * revision still kept.
   */
  watch(prefix: string, fromRevision: number, onEvent: (event: WatchEvent) => void, options: WatchOptions): void;
  /** compact drops history at or below revision (kept values are untouched). */
  compact(revision: number): Promise<void>;
  /** close releases connections and files. */
  close(): Promise<void>;
}

/** StoredValue is one key as stored: its JSON text and the revision of its last write. */
export interface StoredValue {
  key: string;
  value: string;
  modRevision: number;
}

/** WatchEvent is one change seen by a watch. For DELETED, value is the last value before the delete. */
export interface WatchEvent {
  type: 'PUT' | 'DELETE';
  key: string;
  value: string;
  /** The revision of this change. */
  revision: number;
  /** For PUT: true when the key did not exist just before (a create). */
  created: boolean;
}

export interface WatchOptions {
  signal: AbortSignal;
  /** Called once if the watch cannot go on (compaction, lost connection); no more events follow. */
  onError: (error: Error) => void;
}

/** KeyExistsError is thrown by create when the key is already there. */
export class KeyExistsError extends Error {
  constructor(key: string) {
    super(`Key exists: ${key}`);
    this.name = 'KeyExistsError';
  }
}

/** KeyNotFoundError is thrown by update and delete when the key is absent. */
export class KeyNotFoundError extends Error {
  constructor(key: string) {
    super(`Key not found: ${key}`);
    this.name = 'KeyNotFoundError';
  }
}

/** RevisionConflictError is thrown when a precondition on modRevision does not hold. */
export class RevisionConflictError extends Error {
  readonly actualRevision: number;
  constructor(key: string, actualRevision: number) {
    super(`Revision conflict on ${key}: current revision is ${actualRevision}`);
    this.name = 'RevisionConflictError';
    this.actualRevision = actualRevision;
  }
}

/** CompactedError is thrown when a watch asks for history that compaction removed (the API answers 410 Gone). */
export class CompactedError extends Error {
  readonly compactRevision: number;
  constructor(requested: number, compactRevision: number) {
    super(`Revision ${requested} has been compacted (oldest kept after ${compactRevision})`);
    this.name = 'CompactedError';
    this.compactRevision = compactRevision;
  }
}
