/** Summaries the benchmarks report: medians of runs, percentiles of latencies. */

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Nearest-rank percentile (p in 0..100); NaN for no values. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
}

/** p50 and p99 of latencies, in ms. */
export interface Latency {
  readonly p50: number;
  readonly p99: number;
}

export function latency(ms: readonly number[]): Latency {
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

/**
 * The median of each number in same-shaped records (runs' figures), recursively; a number
 * missing from some records counts as 0 there (a request kind one run did not make).
 */
export function medianOf<T>(records: readonly T[]): T {
  return medianTree(records) as T;
}

function medianTree(xs: readonly unknown[]): unknown {
  if (xs.some((x) => typeof x === 'number')) return median(xs.map((x) => (typeof x === 'number' ? x : 0)));
  const objects = xs.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null);
  if (objects.length === 0 || Array.isArray(objects[0])) return xs[0];
  const keys = [...new Set(objects.flatMap((o) => Object.keys(o)))];
  return Object.fromEntries(keys.map((k) => [k, medianTree(objects.map((o) => o[k]))]));
}
