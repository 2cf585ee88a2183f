import type { Clock } from '../util/clock.ts';
import { SyncBudget } from './sync-budget.ts';

/**
 * RunOutcome is what one run did: `noop` (nothing to write: spends no budget), `done` (wrote), `failed` (tried to
 * write and failed: spends budget, and a retry follows).
 */
export type RunOutcome = 'noop' | 'done' | 'failed';

export interface BoundedFrequencyRunnerOptions {
  clock: Clock;
  /** minSyncPeriod: at most `burst` runs back to back, then one per this period (0: no limit). */
  minIntervalMs: number;
  /** syncPeriod: a run at least this long after the last one, asked for or not. */
  maxIntervalMs: number;
  /** How many runs may go back to back before the rate limit applies (kube-proxy's burstSyncs: 2). */
  burst?: number;
  /** How soon after a failed run to try again (default: the smaller of maxIntervalMs and 1 s). */
  retryMs?: number;
}

/**
 * BoundedFrequencyRunner runs a function as upstream's async.BoundedFrequencyRunner does for kube-proxy's sync:
 * `run()` asks for a run, which starts when the budget (SyncBudget: burst of 2, refilled one per minSyncPeriod)
 * allows; asks that arrive while a run is in progress coalesce into exactly one more run after it; a run happens at
 * least every maxInterval; a failed run is retried after retryMs; `runAfter(ms)` asks for a run later (deferred work).
 * Runs never overlap. Time comes from the Clock, so unit tests drive it with FakeClock.
 */
export class BoundedFrequencyRunner {
  #fn: () => Promise<RunOutcome>;
  #clock: Clock;
  #budget: SyncBudget;
  #maxIntervalMs: number;
  #retryMs: number;
  /** The scheduled run (cancel function), when one waits for the budget. */
  #scheduled: (() => void) | undefined;
  #periodic: (() => void) | undefined;
  /** Runs asked for later (runAfter, retries), by when they are due. */
  #later = new Map<() => void, number>();
  #running = false;
  #again = false;
  #stopped = false;
  #started = false;

  constructor(fn: () => Promise<RunOutcome>, options: BoundedFrequencyRunnerOptions) {
    this.#fn = fn;
    this.#clock = options.clock;
    this.#budget = new SyncBudget(options.minIntervalMs, options.burst ?? 2);
    this.#maxIntervalMs = options.maxIntervalMs;
    this.#retryMs = options.retryMs ?? Math.min(options.maxIntervalMs, 1000);
  }

  /** start asks for the first run and starts the periodic ones. */
  start(): void {
    this.#started = true;
    this.#resetPeriodic();
    this.run();
  }

  /** stop cancels every pending run (one in progress finishes). */
  stop(): void {
    this.#stopped = true;
    this.#scheduled?.();
    this.#scheduled = undefined;
    this.#periodic?.();
    for (const cancel of this.#later.keys()) cancel();
    this.#later.clear();
  }

  /** run asks for a run: now if the budget allows, else as soon as it does; during a run, once after it. */
  run(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#scheduled) return;
    const wait = this.#budget.waitMs(this.#clock.now());
    this.#scheduled = this.#clock.setTimer(() => {
      this.#scheduled = undefined;
      void this.#execute();
    }, wait);
  }

  /** runAfter asks for a run ms from now (a run already due sooner makes it unnecessary). */
  runAfter(ms: number): void {
    if (this.#stopped) return;
    const due = this.#clock.now() + ms;
    for (const at of this.#later.values()) if (at <= due) return;
    const cancel = this.#clock.setTimer(() => {
      this.#later.delete(cancel);
      this.run();
    }, ms);
    this.#later.set(cancel, due);
  }

  async #execute(): Promise<void> {
    if (this.#stopped) return;
    this.#running = true;
    const started = this.#clock.now();
    let outcome: RunOutcome;
    try {
      outcome = await this.#fn();
    } catch {
      outcome = 'failed';
    }
    // Only a run that wrote (or tried to) spends the budget: asks that change nothing never delay a real change.
    if (outcome !== 'noop') this.#budget.take(started);
    this.#running = false;
    if (this.#stopped) return;
    this.#resetPeriodic();
    if (outcome === 'failed') this.runAfter(this.#retryMs);
    if (this.#again) {
      this.#again = false;
      this.run();
    }
  }

  /** #resetPeriodic makes the next unasked-for run come maxInterval after the last run. */
  #resetPeriodic(): void {
    if (!this.#started) return;
    this.#periodic?.();
    this.#periodic = this.#clock.setTimer(() => {
      this.#periodic = undefined;
      this.run();
    }, this.#maxIntervalMs);
  }
}
