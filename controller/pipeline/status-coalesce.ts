/**
 * When a status write may wait (pure). A run's headline — phase, which run is current and last,
 * the conditions, the generation seen, the run request answered — is written at once. Progress
 * inside a run (a step going from Scheduled to Running, times, the event position) waits until
 * a short while after the previous write, so a step that starts and ends within it costs one
 * write, not two. Nothing is lost: the event store records every transition; status is the summary.
 */
import type { FlexPipelineStatus } from '../../api/v1alpha1/index.js';

/** How long progress inside a run may wait after the previous write. */
export const STATUS_COALESCE_MS = 1000;

/** A status this replica wrote, and when. */
export interface WrittenStatus {
  readonly status: FlexPipelineStatus;
  readonly at: number;
}

function headline(s: FlexPipelineStatus): string {
  return JSON.stringify([
    s.observedGeneration,
    s.phase,
    s.currentRun?.id,
    s.lastRun?.id,
    s.lastRun?.phase,
    s.lastRunRequest,
    (s.conditions ?? []).map((c) => [c.type, c.status, c.reason]),
  ]);
}

/** Milliseconds the write of `next` may wait (0: write now). */
export function statusWriteDelay(
  previous: WrittenStatus | undefined,
  next: FlexPipelineStatus,
  now: number,
): number {
  if (!previous || headline(previous.status) !== headline(next)) return 0;
  return Math.max(0, previous.at + STATUS_COALESCE_MS - now);
}
