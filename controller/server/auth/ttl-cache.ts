/**
 * A small cache of decisions with a time to live per entry and a bound on entries (the oldest
 * goes first). It stores promises, so concurrent identical lookups share one request; a lookup
 * that fails is not kept, so the next request asks again.
 */
import type { Clock } from '../../clock.js';

export class TtlCache<V> {
  private readonly entries = new Map<string, { value: Promise<V>; expires: number }>();

  constructor(
    private readonly clock: Pick<Clock, 'now'>,
    private readonly maxEntries = 10_000,
  ) {}

  /** The cached value of `key`, or `load()`'s, kept for `ttlMs(value)` milliseconds. */
  get(key: string, load: () => Promise<V>, ttlMs: (value: V) => number): Promise<V> {
    const now = this.clock.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) return hit.value;
    if (hit) this.entries.delete(key);
    const value = load();
    const entry = { value, expires: Number.POSITIVE_INFINITY }; // until it settles
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    value.then(
      (v) => (entry.expires = this.clock.now() + ttlMs(v)),
      () => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      },
    );
    return value;
  }

  get size(): number {
    return this.entries.size;
  }
}
