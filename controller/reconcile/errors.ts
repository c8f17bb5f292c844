/**
 * Errors that carry their retry policy (kopf's permanent/temporary errors, controller-runtime's
 * TerminalError). A reconciler throws one of these, or any other error, which counts as
 * transient. Checked by `name` as well as `instanceof`, so copies of the module agree.
 */

/** The input cannot succeed as it is: do not retry until the object changes. */
export class TerminalError extends Error {
  override name = 'TerminalError';
  constructor(
    message: string,
    /** CamelCase reason for conditions and Kubernetes Events. */
    readonly reason = 'Invalid',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Not an error in the input: try again after `delayMs` (a dependency is not ready yet). */
export class RequeueAfterError extends Error {
  override name = 'RequeueAfterError';
  constructor(
    message: string,
    readonly delayMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A failure that may pass (conflict, timeout, unavailable service): retry with per-key backoff. */
export class TransientError extends Error {
  override name = 'TransientError';
}

export type RetryDecision =
  | { readonly kind: 'terminal' }
  | { readonly kind: 'requeueAfter'; readonly delayMs: number }
  | { readonly kind: 'backoff' };

/** How the work queue treats an error thrown by a reconcile. */
export function retryDecision(err: unknown): RetryDecision {
  const name = err instanceof Error ? err.name : '';
  if (name === 'TerminalError') return { kind: 'terminal' };
  if (name === 'RequeueAfterError')
    return { kind: 'requeueAfter', delayMs: (err as RequeueAfterError).delayMs };
  return { kind: 'backoff' };
}

/** What a successful reconcile asks for: nothing, or another look after a delay (a timer). */
export interface ReconcileResult {
  readonly requeueAfterMs?: number;
}

/** Reconciles the object with key `namespace/name`; level-triggered, so it may run any number of times. */
export type Reconcile = (key: string) => Promise<ReconcileResult | void>;
