/**
 * SyncBudget is the rate limit of upstream's BoundedFrequencyRunner as kube-proxy configures it: a token bucket
 * holding at most `burst` syncs (kube-proxy's burstSyncs, 2), refilled by one every minSyncPeriod. So a new Service and
 * its EndpointSlice, arriving a few milliseconds apart, are both applied at once, while a steady stream of changes
 * still costs at most one sync per minSyncPeriod. Pure: the caller passes the time.
 */
export class SyncBudget {
  #minSyncPeriodMs: number;
  #burst: number;
  #tokens: number;
  #at: number | undefined;

  constructor(minSyncPeriodMs: number, burst = 2) {
    this.#minSyncPeriodMs = minSyncPeriodMs;
    this.#burst = burst;
    this.#tokens = burst;
  }

  /** waitMs is how long a sync asked for at `now` must wait for a token (0: it may run now). */
  waitMs(now: number): number {
    const tokens = this.#available(now);
    return tokens >= 1 || this.#minSyncPeriodMs === 0 ? 0 : Math.ceil((1 - tokens) * this.#minSyncPeriodMs);
  }

  /** take spends one token for a sync starting at `now`. */
  take(now: number): void {
    this.#tokens = Math.max(0, this.#available(now) - 1);
    this.#at = now;
  }

  #available(now: number): number {
    if (this.#at === undefined || this.#minSyncPeriodMs === 0) return this.#burst;
    return Math.min(this.#burst, this.#tokens + (now - this.#at) / this.#minSyncPeriodMs);
  }
}
