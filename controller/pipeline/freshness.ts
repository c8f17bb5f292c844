/**
 * A pipeline's freshness (pure): when it last ran, last succeeded, and next runs by schedule.
 * The history holds only the runs its limits keep, so a success older than those comes from
 * the read models (`stored`), read once when this replica starts leading the pipeline: after a
 * failover the gauges show the same values, never zero.
 */
import { FINISHED_ATTEMPT, isActive, type History, type RunState } from './history.js';
import { deadlineOf } from './planner.js';

export interface Freshness {
  /** Milliseconds since the epoch; undefined when it never happened (or no schedule). */
  readonly lastRunAt?: number;
  readonly lastSuccessAt?: number;
  readonly nextScheduleAt?: number;
  /** When the controller must have ended the active run, or one of its attempts, at the latest. */
  readonly runDeadlineAt?: number;
}

const latest = (...values: (number | undefined)[]): number | undefined => {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length === 0 ? undefined : Math.max(...known);
};

/** The timeout of a step of a run, in ms (the step's, its plugin's default, or FlexCore's). */
export type StepTimeoutMs = (run: RunState, step: string) => number;

/**
 * The earliest deadline of the active runs: a run's activeDeadlineSeconds, and each unfinished
 * attempt's timeout from its start (from being scheduled when it has not started), as the
 * planner enforces them. Past it, a run still active means the controller is not acting.
 */
export function runDeadlineOf(history: History, timeoutMs: StepTimeoutMs): number | undefined {
  const deadlines: number[] = [];
  for (const run of history.runs.filter(isActive)) {
    const deadline = deadlineOf(run);
    if (deadline !== undefined) deadlines.push(deadline);
    for (const [step, state] of Object.entries(run.steps)) {
      for (const a of state.attempts.filter((a) => !FINISHED_ATTEMPT.has(a.phase))) {
        deadlines.push((a.startedAt ?? a.scheduledAt) + timeoutMs(run, step));
      }
    }
  }
  const known = deadlines.filter(Number.isFinite);
  return known.length === 0 ? undefined : Math.min(...known);
}

/** Freshness from the held history, the stored fallback, the next schedule tick and the timeouts. */
export function freshnessOf(
  history: History,
  stored: Omit<Freshness, 'nextScheduleAt' | 'runDeadlineAt'> | undefined,
  nextScheduleAt: number | undefined,
  timeoutMs: StepTimeoutMs,
): Freshness {
  const runs = history.runs;
  return {
    lastRunAt: latest(stored?.lastRunAt, ...runs.map((r) => r.startedAt)),
    lastSuccessAt: latest(
      stored?.lastSuccessAt,
      ...runs.filter((r) => r.phase === 'Succeeded').map((r) => r.finishedAt),
    ),
    nextScheduleAt,
    runDeadlineAt: runDeadlineOf(history, timeoutMs),
  };
}
