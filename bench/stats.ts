/**
 * stats: what the benchmarks measure with. Percentiles are nearest-rank on the sorted values (p50 of 100 values is
 * the 51st smallest, p100 the largest), as every suite has reported them.
 */

/** percentile is the p-th percentile (0 to 100) of values; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** median is percentile 50. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/**
 * inFlight runs task(0) ... task(count - 1) with at most `concurrency` running at once (a pool of workers taking the
 * next index), and resolves when all are done; the first failure rejects.
 */
export async function inFlight(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}
