/**
 * What a batch of recorded events means for the run metrics (pure): runs started and finished,
 * step attempts finished with their result and reason, retries, skipped schedule ticks, with
 * durations read from the history the batch led to. The reconciler records, then reports these;
 * only the leader of a scope records, so each run is counted once across replicas.
 */
import type { NewEvent } from '../store/recorded-event.js';
import type { History, RunState } from './history.js';

export type RunObservation =
  | { readonly kind: 'runStarted'; readonly trigger: string }
  | { readonly kind: 'runFinished'; readonly result: string; readonly seconds: number }
  | {
      readonly kind: 'attemptFinished';
      readonly plugin: string;
      readonly result: string;
      readonly reason: string;
      readonly seconds?: number;
    }
  | { readonly kind: 'retry'; readonly plugin: string }
  | { readonly kind: 'tickSkipped'; readonly reason: string }
  | { readonly kind: 'records'; readonly container: string; readonly stream: string; readonly count: number };

/** Longest reason kept as a label value; anything else is "Other", so cardinality stays bounded. */
const REASON = /^[A-Za-z][A-Za-z0-9]{0,39}$/;

/** The `reason` label of a finished attempt: its reason when it is a short identifier. */
export function reasonLabel(reason: string | undefined, exitCode: number | undefined): string {
  if (reason !== undefined && REASON.test(reason) && reason !== 'Error') return reason;
  // As the planner names a failure it knows only the exit code of (ExitCode3): at most 255 values.
  if (exitCode !== undefined && exitCode !== 0) return `ExitCode${exitCode}`;
  return reason === undefined ? 'None' : REASON.test(reason) ? reason : 'Other';
}

function pluginOf(run: RunState | undefined, step: string): string {
  return run?.spec.steps.find((s) => s.name === step)?.plugin ?? 'unknown';
}

const seconds = (from: number | undefined, to: number | undefined): number | undefined =>
  from !== undefined && to !== undefined && to >= from ? (to - from) / 1000 : undefined;

type Data = Record<string, unknown>;

/** The observations of `events`, appended to reach `after`. */
export function observationsOf(events: readonly NewEvent[], after: History): RunObservation[] {
  const runs = new Map(after.runs.map((r) => [r.id, r]));
  const out: RunObservation[] = [];
  for (const e of events) {
    const d = e.data as Data;
    const run = typeof d.runId === 'string' ? runs.get(d.runId) : undefined;
    switch (e.type) {
      case 'RunStarted':
        out.push({ kind: 'runStarted', trigger: String(d.trigger) });
        break;
      case 'RunFinished':
        out.push({
          kind: 'runFinished',
          result: String(d.phase),
          seconds: seconds(run?.startedAt, run?.finishedAt) ?? 0,
        });
        break;
      case 'StepAttemptScheduled':
        if (typeof d.attempt === 'number' && d.attempt > 1)
          out.push({ kind: 'retry', plugin: pluginOf(run, String(d.step)) });
        break;
      case 'StepAttemptFinished': {
        const attempt = run?.steps[String(d.step)]?.attempts.find((a) => a.attempt === d.attempt);
        out.push({
          kind: 'attemptFinished',
          plugin: pluginOf(run, String(d.step)),
          result: String(d.phase),
          reason: reasonLabel(d.reason as string | undefined, d.exitCode as number | undefined),
          seconds: seconds(attempt?.startedAt ?? attempt?.scheduledAt, attempt?.finishedAt),
        });
        break;
      }
      case 'SingerRecordsCounted':
        for (const [stream, count] of Object.entries(d.streams as Record<string, number>))
          out.push({ kind: 'records', container: String(d.container), stream, count });
        break;
      case 'ScheduleTickSkipped':
        out.push({ kind: 'tickSkipped', reason: reasonLabel(d.reason as string | undefined, undefined) });
        break;
      default:
        break;
    }
  }
  return out;
}
