/**
 * A pipeline's freshness (pure): when it last ran, last succeeded, and next runs by schedule.
 * The history holds only the runs its limits keep, so a success older than those comes from
 * the read models (`stored`), read once when this replica starts leading the pipeline: after a
 * failover the gauges show the same values, never zero.
 */
import type { History } from './history.js';

export interface Freshness {
  /** Milliseconds since the epoch; undefined when it never happened (or no schedule). */
  readonly lastRunAt?: number;
  readonly lastSuccessAt?: number;
  readonly nextScheduleAt?: number;
}

const latest = (...values: (number | undefined)[]): number | undefined => {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length === 0 ? undefined : Math.max(...known);
};

/** Freshness from the held history, the stored fallback and the next schedule tick. */
export function freshnessOf(
  history: History,
  stored: Omit<Freshness, 'nextScheduleAt'> | undefined,
  nextScheduleAt: number | undefined,
): Freshness {
  const runs = history.runs;
  return {
    lastRunAt: latest(stored?.lastRunAt, ...runs.map((r) => r.startedAt)),
    lastSuccessAt: latest(
      stored?.lastSuccessAt,
      ...runs.filter((r) => r.phase === 'Succeeded').map((r) => r.finishedAt),
    ),
    nextScheduleAt,
  };
}
