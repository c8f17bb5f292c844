/**
 * Which run is due (pure): a new spec generation, a new run-requested value, or a schedule
 * tick, weighed against the runs still active and the concurrency policy.
 */
import type { PipelineObject } from '../objects.js';
import { latestTick, nextTick } from './cron.js';
import { isActive, type History } from './history.js';
import { ANNOTATIONS } from './labels.js';
import type { RunCause } from './naming.js';

export type TriggerDecision =
  | { readonly kind: 'start'; readonly cause: RunCause; readonly replace: readonly string[] }
  | { readonly kind: 'skipTick'; readonly tickMs: number; readonly reason: string }
  | { readonly kind: 'none'; readonly waiting?: string };

export interface TriggerInput {
  readonly pipeline: PipelineObject;
  readonly history: History;
  readonly now: number;
}

/** The run-requested annotation value not yet acted on, if any. */
function pendingRequest(p: PipelineObject, h: History): string | undefined {
  const value = p.metadata.annotations?.[ANNOTATIONS.runRequested]?.trim();
  return value && value !== h.lastRequest ? value : undefined;
}

/** The schedule tick not yet acted on, with whether it is too late to start. */
function pendingTick(
  p: PipelineObject,
  h: History,
  now: number,
): { tickMs: number; late: boolean } | undefined {
  const { schedule, timeZone, startingDeadlineSeconds } = p.spec;
  if (!schedule) return undefined;
  const tick = latestTick(schedule, timeZone, now);
  const created = p.metadata.creationTimestamp ? Date.parse(String(p.metadata.creationTimestamp)) : 0;
  if (tick === undefined || tick <= (h.lastTickMs ?? -1) || tick < created) return undefined;
  const late = startingDeadlineSeconds !== undefined && now - tick > startingDeadlineSeconds * 1000;
  return { tickMs: tick, late };
}

function pendingCause(p: PipelineObject, h: History, now: number): RunCause | TriggerDecision | undefined {
  const request = pendingRequest(p, h);
  if (request !== undefined) return { trigger: 'Manual', request, seq: h.version + 1 };
  const generation = p.metadata.generation ?? 1;
  if (!p.spec.schedule && generation > (h.lastGeneration ?? 0)) return { trigger: 'Generation', generation };
  const tick = pendingTick(p, h, now);
  if (tick?.late) return { kind: 'skipTick', tickMs: tick.tickMs, reason: 'StartingDeadlineExceeded' };
  if (tick) return { trigger: 'Schedule', tickMs: tick.tickMs };
  return undefined;
}

/** The next trigger decision; call again after applying it until it returns `none`. */
export function decideTrigger({ pipeline, history, now }: TriggerInput): TriggerDecision {
  if (history.deleted || pipeline.spec.suspend) return { kind: 'none' };
  const cause = pendingCause(pipeline, history, now);
  if (cause === undefined) return { kind: 'none' };
  if ('kind' in cause) return cause;
  const active = history.runs.filter(isActive).map((r) => r.id);
  if (active.length === 0) return { kind: 'start', cause, replace: [] };
  switch (pipeline.spec.concurrencyPolicy) {
    case 'Allow':
      return { kind: 'start', cause, replace: [] };
    case 'Replace':
      return { kind: 'start', cause, replace: active };
    default:
      // A missed tick is dropped; a generation or a manual request waits for its turn.
      return cause.trigger === 'Schedule'
        ? { kind: 'skipTick', tickMs: cause.tickMs, reason: 'ConcurrencyForbid' }
        : { kind: 'none', waiting: `a ${cause.trigger.toLowerCase()} run waits for run ${active[0]}` };
  }
}

/** When the schedule next fires (for status and the requeue timer). */
export function nextScheduleTime(pipeline: PipelineObject, now: number): number | undefined {
  const { schedule, timeZone, suspend } = pipeline.spec;
  return schedule && !suspend ? nextTick(schedule, timeZone, now) : undefined;
}
