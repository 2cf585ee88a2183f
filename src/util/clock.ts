/**
 * Clock is time as the sync loops see it (now, timers), passed in so a unit test can drive a loop with FakeClock
 * instead of waiting: the proxier's rate limit and resyncs, the kubelet's restart back-off and probes.
 */
export interface Clock {
  /** now is milliseconds since the epoch, as Date.now(). */
  now(): number;
  /** setTimer calls fn once after ms; the returned function cancels it. Timers never keep the process alive. */
  setTimer(fn: () => void, ms: number): () => void;
}

/** realClock is the system's time and Node's timers (unref'd, so a pending timer never holds a process open). */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimer(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

interface PendingTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * FakeClock is a Clock that moves only when told: advance(ms) runs, in time order, every timer that falls due
 * (timers set by those callbacks included), letting promise callbacks settle between them, as real time would.
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers = new Set<PendingTimer>();

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.add(timer);
    return () => this.#timers.delete(timer);
  }

  /** pending is how many timers are waiting. */
  get pending(): number {
    return this.#timers.size;
  }

  /** advance moves time forward by ms, running the timers that fall due on the way. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    await settle();
    for (;;) {
      const next = this.#next();
      if (!next || next.at > end) break;
      this.#timers.delete(next);
      this.#now = next.at;
      next.fn();
      await settle();
    }
    this.#now = end;
    await settle();
  }

  #next(): PendingTimer | undefined {
    let next: PendingTimer | undefined;
    for (const t of this.#timers) if (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq)) next = t;
    return next;
  }
}

/** settle lets every callback already queued on promises run (a few macrotask turns, so chains of awaits finish). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
