/**
 * wait: the polling and sleeping every layer does (upstream's k8s.io/apimachinery/pkg/util/wait, in small).
 */

/** sleep resolves after ms, or as soon as signal aborts (it never rejects: the caller checks signal.aborted). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export interface WaitOptions {
  /** Give up after this long (default 15 s). */
  timeoutMs?: number;
  /** Between two checks (default 50 ms). */
  intervalMs?: number;
  /** An error thrown by check ends the wait at once (default: it counts as not yet, and is named on time-out). */
  failFast?: boolean;
}

/**
 * waitFor calls check until it returns a truthy value, which it resolves with. A check that throws counts as not
 * yet; when time runs out it throws `Timed out after 15s waiting for <description>` with the last error's message.
 */
export async function waitFor<T>(
  description: string,
  check: () => Promise<T> | T,
  options: WaitOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      if (options.failFast) throw error;
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(options.intervalMs ?? 50, Math.max(0, deadline - Date.now())));
  }
  const why = lastError instanceof Error ? `: ${lastError.message}` : '';
  throw new Error(`Timed out after ${timeoutMs / 1000}s waiting for ${description}${why}`);
}
