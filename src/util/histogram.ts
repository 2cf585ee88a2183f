/**
 * histogram: a Prometheus histogram in the text exposition format, for components that expose a handful of metrics
 * without a client library (CoreDNS's and kube-proxy's names).
 */

/** exponentialBuckets is Prometheus's ExponentialBuckets: count upper bounds, start, start·factor, start·factor², ... */
export function exponentialBuckets(start: number, factor: number, count: number): number[] {
  return Array.from({ length: count }, (_, k) => start * factor ** k);
}

export class Histogram {
  readonly buckets: readonly number[];
  /** Observations per bucket (each counted in the first bucket that holds it; lines() makes them cumulative). */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(buckets: readonly number[]) {
    this.buckets = buckets;
    this.counts = buckets.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    const i = this.buckets.findIndex((b) => value <= b);
    if (i >= 0) this.counts[i]!++;
  }

  /** lines are the series of one labelled histogram: cumulative `_bucket`s up to `+Inf`, `_sum` and `_count`. */
  lines(name: string, labels = ''): string[] {
    const sep = labels ? `${labels},` : '';
    const tail = labels ? `{${labels}}` : '';
    let cumulative = 0;
    const out = this.buckets.map((b, i) => `${name}_bucket{${sep}le="${b}"} ${(cumulative += this.counts[i]!)}`);
    out.push(
      `${name}_bucket{${sep}le="+Inf"} ${this.count}`,
      `${name}_sum${tail} ${this.sum}`,
      `${name}_count${tail} ${this.count}`,
    );
    return out;
  }
}
