import { isStatusError } from '../api/status.ts';

/**
 * WorkQueue runs a handler per key, one at a time per key, deduplicating keys queued while waiting (as client-go's
 * workqueue does) and retrying failures with a growing delay. Handlers read the latest state from informer caches,
 * so a key queued twice is handled once with the newest data.
 */
export class WorkQueue {
  #handler: (key: string) => Promise<void>;
  #onError: (key: string, error: unknown) => void;
  #queued = new Set<string>();
  #active = new Set<string>();
  #dirty = new Set<string>();
  #failures = new Map<string, number>();
  #concurrency: number;
  #running = 0;
  #order: string[] = [];
  #stopped = false;

  constructor(
    handler: (key: string) => Promise<void>,
    options: { concurrency?: number; onError: (key: string, error: unknown) => void },
  ) {
    this.#handler = handler;
    this.#onError = options.onError;
    this.#concurrency = options.concurrency ?? 4;
  }

  add(key: string): void {
    if (this.#stopped) return;
    if (this.#active.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    this.#queued.add(key);
    this.#order.push(key);
    this.#pump();
  }

  /** addAfter queues a key later (requeue for time-based conditions). */
  addAfter(key: string, ms: number): void {
    setTimeout(() => this.add(key), ms).unref();
  }

  /**
   * requeueOn is a catch handler for a write that may lose a race: an error with one of the status codes (409: the
   * object changed meanwhile, 404: it is gone) queues key again after ms and resolves to undefined; anything else is
   * rethrown (and the key retried with back-off).
   */
  requeueOn(key: string, ms: number, ...codes: number[]): (error: unknown) => undefined {
    return (error) => {
      if (!codes.some((code) => isStatusError(error, code))) throw error;
      this.addAfter(key, ms);
      return undefined;
    };
  }

  stop(): void {
    this.#stopped = true;
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#order.length > 0) {
      const key = this.#order.shift()!;
      this.#queued.delete(key);
      this.#active.add(key);
      this.#running++;
      void this.#handler(key)
        .then(
          () => this.#failures.delete(key),
          (error) => {
            const n = (this.#failures.get(key) ?? 0) + 1;
            this.#failures.set(key, n);
            this.#onError(key, error);
            this.addAfter(key, Math.min(5 * 2 ** n, 5000));
          },
        )
        .finally(() => {
          this.#running--;
          this.#active.delete(key);
          if (this.#dirty.delete(key)) this.add(key);
          this.#pump();
        });
    }
  }
}
