/** Retry decisions for failed step attempts (pure). */
import { createHash } from 'node:crypto';
import type { RetryPolicy } from '../../api/v1alpha1/index.js';

export const DEFAULT_BACKOFF = { initialSeconds: 10, maxSeconds: 600, factor: 2 } as const;
/** Jitter adds up to this fraction of the delay, so retries of many steps do not move in lockstep. */
export const JITTER = 0.2;

/** True when a failed attempt with `exitCode` may be retried under `policy`. */
export function isRetryable(policy: RetryPolicy | undefined, exitCode: number | undefined): boolean {
  const codes = policy?.retryableExitCodes;
  if (!codes || codes.length === 0) return true;
  return exitCode !== undefined && codes.includes(exitCode);
}

/** True when attempt number `attempt` (1-based) failed and another may follow. */
export function hasAttemptsLeft(policy: RetryPolicy | undefined, attempt: number): boolean {
  return attempt <= (policy?.limit ?? 0);
}

/**
 * A number in [0, 1) derived from `seed`: the jitter is deterministic, so every reconcile
 * of the same failed attempt computes the same retry time without storing it.
 */
export function unitFromSeed(seed: string): number {
  return createHash('sha256').update(seed).digest().readUInt32BE(0) / 2 ** 32;
}

/** Delay in ms before the retry that follows failed attempt `attempt` (1-based). */
export function retryDelayMs(policy: RetryPolicy | undefined, attempt: number, seed: string): number {
  const b = { ...DEFAULT_BACKOFF, ...policy?.backoff };
  const base = Math.min(b.initialSeconds * b.factor ** (attempt - 1), b.maxSeconds);
  return Math.round(base * 1000 * (1 + JITTER * unitFromSeed(seed)));
}
