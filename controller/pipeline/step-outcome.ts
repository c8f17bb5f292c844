/** Where a step of a run stands (pure): still to do, in flight, waiting to retry, or done. */
import type { Step } from '../../api/v1alpha1/index.js';
import { FINISHED_ATTEMPT, type AttemptState, type StepState } from './history.js';
import { hasAttemptsLeft, isRetryable, retryDelayMs } from './retry.js';
import { effectiveRetries } from './step-policy.js';

export type StepOutcome = 'Succeeded' | 'Failed' | 'TimedOut' | 'Cancelled' | 'Skipped';

export type StepStanding =
  | { readonly kind: 'notStarted' }
  | { readonly kind: 'active'; readonly attempt: AttemptState }
  | { readonly kind: 'retrying'; readonly after: AttemptState; readonly at: number }
  | { readonly kind: 'done'; readonly outcome: StepOutcome; readonly reason?: string };

/** Reasons of a skip that means "stopped from outside" rather than "upstream failed". */
const CANCEL_REASONS = new Set(['Cancelled', 'Replaced', 'PipelineDeleted', 'DeadlineExceeded']);

export function isCancelSkip(reason: string | undefined): boolean {
  return reason !== undefined && CANCEL_REASONS.has(reason);
}

type PluginLike = Parameters<typeof effectiveRetries>[1];

/** The standing of a step, given the retry policy of its plugin. */
export function standing(
  runId: string,
  step: Step,
  state: StepState | undefined,
  plugin: PluginLike,
): StepStanding {
  if (state?.skipped) {
    const outcome = isCancelSkip(state.skipped.reason) ? 'Cancelled' : 'Skipped';
    return { kind: 'done', outcome, reason: state.skipped.reason };
  }
  const last = state?.attempts[state.attempts.length - 1];
  if (!last) return { kind: 'notStarted' };
  if (!FINISHED_ATTEMPT.has(last.phase)) return { kind: 'active', attempt: last };
  if (last.phase !== 'Failed')
    return { kind: 'done', outcome: last.phase as StepOutcome, reason: last.reason };
  const policy = effectiveRetries(step, plugin);
  if (isRetryable(policy, last.exitCode) && hasAttemptsLeft(policy, last.attempt)) {
    const delay = retryDelayMs(policy, last.attempt, `${runId}/${step.name}/${last.attempt}`);
    return { kind: 'retrying', after: last, at: (last.finishedAt ?? last.scheduledAt) + delay };
  }
  return { kind: 'done', outcome: 'Failed', reason: last.reason };
}
