/**
 * Rate limiters for the work queue, after client-go's workqueue: how long a key must wait before
 * it is retried. Each limiter is deterministic; the one that depends on time reads a `Clock`.
 */
import type { Clock } from '../clock.js';

/** Decides retry delays per key (client-go's `RateLimiter`). */
export interface RateLimiter {
  /** Records one more failure of `key` and returns how long (ms) it must wait before its retry. */
  when(key: string): number;
  /** Stops tracking `key`: its next failure starts the backoff afresh. */
  forget(key: string): void;
  /** How many failures of `key` are being tracked. */
  numRequeues(key: string): number;
}

export interface ExponentialBackoffOptions {
  /** First delay; doubled after every failure. 5 ms by default. */
  readonly baseMs?: number;
  /** Ceiling of the delay. 1000 s by default. */
  readonly maxMs?: number;
}

/** Per-key exponential backoff: base, 2·base, 4·base, … capped at max (client-go's ItemExponentialFailureRateLimiter). */
export class ExponentialFailureRateLimiter implements RateLimiter {
  private readonly failures = new Map<string, number>();
  private readonly baseMs: number;
  private readonly maxMs: number;

  constructor(options: ExponentialBackoffOptions = {}) {
    this.baseMs = options.baseMs ?? 5;
    this.maxMs = options.maxMs ?? 1_000_000;
  }

  when(key: string): number {
    const exp = this.failures.get(key) ?? 0;
    this.failures.set(key, exp + 1);
    // Past 2^1024 the product is Infinity; min() still caps it.
    return Math.min(this.baseMs * 2 ** exp, this.maxMs);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}

export interface TokenBucketOptions {
  /** Tokens added per second. 10 by default. */
  readonly qps?: number;
  /** Bucket size, also the tokens available at start. 100 by default. */
  readonly burst?: number;
}

/**
 * One token bucket for all keys (client-go's BucketRateLimiter over golang.org/x/time/rate): every
 * `when` reserves a token; once the bucket is empty, reservations queue up at `qps`.
 */
export class TokenBucketRateLimiter implements RateLimiter {
  private readonly qps: number;
  private readonly burst: number;
  private tokens: number;
  private last: number;

  constructor(
    private readonly clock: Clock,
    options: TokenBucketOptions = {},
  ) {
    this.qps = options.qps ?? 10;
    this.burst = options.burst ?? 100;
    this.tokens = this.burst;
    this.last = clock.now();
  }

  when(_key: string): number {
    this.refill();
    // Tokens may go negative: each reservation waits behind the ones before it.
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  forget(_key: string): void {}

  numRequeues(_key: string): number {
    return 0;
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsedMs = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs / 1000) * this.qps);
  }
}

/** The strictest of several limiters: the longest delay wins (client-go's MaxOfRateLimiter). */
export class MaxOfRateLimiter implements RateLimiter {
  private readonly limiters: readonly RateLimiter[];

  constructor(...limiters: RateLimiter[]) {
    this.limiters = limiters;
  }

  when(key: string): number {
    // Every limiter must record the failure, so no short-circuit.
    return Math.max(0, ...this.limiters.map((l) => l.when(key)));
  }

  forget(key: string): void {
    for (const l of this.limiters) l.forget(key);
  }

  numRequeues(key: string): number {
    return Math.max(0, ...this.limiters.map((l) => l.numRequeues(key)));
  }
}

export interface ControllerRateLimiterOptions {
  readonly backoff?: ExponentialBackoffOptions;
  readonly bucket?: TokenBucketOptions;
}

/**
 * client-go's `DefaultControllerRateLimiter`: per-key backoff (5 ms … 1000 s) under an overall
 * bucket (10 qps, burst 100), so neither one hot key nor a flood of failures overwhelms the API.
 */
export function defaultControllerRateLimiter(
  clock: Clock,
  options: ControllerRateLimiterOptions = {},
): RateLimiter {
  return new MaxOfRateLimiter(
    new ExponentialFailureRateLimiter(options.backoff),
    new TokenBucketRateLimiter(clock, options.bucket),
  );
}
