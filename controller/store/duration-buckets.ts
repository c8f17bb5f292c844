/**
 * The duration histogram of the run summary: upper bounds in seconds (the same list as
 * flexcore.duration_bucket in migration 006), and quantiles estimated from bucket counts the way
 * Prometheus's histogram_quantile does (linear within the bucket that holds the rank).
 */

export const DURATION_BUCKET_BOUNDS = [
  1, 2, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400,
] as const;

/** Bucket count: one per bound, and one above the last. */
export const DURATION_BUCKETS = DURATION_BUCKET_BOUNDS.length + 1;

/**
 * The q-quantile (0 < q < 1) of durations counted in `counts` (index 0 = the first bucket).
 * Undefined without any count. Durations above the last bound are reported as that bound.
 */
export function durationQuantile(counts: readonly number[], q: number): number | undefined {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i]!;
    if (c > 0 && seen + c >= rank) {
      const last = DURATION_BUCKET_BOUNDS[DURATION_BUCKET_BOUNDS.length - 1]!;
      if (i >= DURATION_BUCKET_BOUNDS.length) return last;
      const lower = i === 0 ? 0 : DURATION_BUCKET_BOUNDS[i - 1]!;
      const upper = DURATION_BUCKET_BOUNDS[i]!;
      return lower + ((upper - lower) * (rank - seen)) / c;
    }
    seen += c;
  }
  return undefined;
}
