/**
 * Exponential backoff with jitter, as a pure function plus a tiny counter around it. The
 * defaults are client-go's reflector numbers: 800 ms doubling up to 30 s.
 */

export interface BackoffPolicy {
  /** The first delay. */
  readonly initialMs: number;
  /** No delay is longer than this. */
  readonly maxMs: number;
  /** Growth per attempt. */
  readonly factor: number;
  /**
   * Fraction of each delay taken off at random (0 = none, 0.2 = up to 20 % shorter), so many
   * clients that failed together do not retry together, even once they all reach `maxMs`.
   */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 800, maxMs: 30_000, factor: 2, jitter: 0.2 };

/**
 * The delay before retry `attempt` (0 for the first retry): `initialMs × factor^attempt`,
 * capped at `maxMs`, minus up to `jitter` of it. `random` returns a number in [0, 1).
 */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exponential = policy.initialMs * policy.factor ** Math.max(0, attempt);
  const capped = Math.min(policy.maxMs, exponential);
  return Math.round(capped * (1 - policy.jitter * random()));
}

/** Counts consecutive failures; `next()` gives the delay for the next retry, `reset()` starts over. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly policy: BackoffPolicy = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next retry; each call counts one more failure. */
  next(): number {
    return backoffDelay(this.policy, this.attempt++, this.random);
  }

  /** Forgets past failures, after a success. */
  reset(): void {
    this.attempt = 0;
  }

  /** Failures counted since the last reset. */
  get failures(): number {
    return this.attempt;
  }
}
