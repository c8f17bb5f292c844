/** Schedule ticks of a pipeline (pure; `now` comes from the caller's Clock). */
import { Cron } from 'croner';
import { expandSchedule } from '../../api/v1alpha1/index.js';

/**
 * Runs `use` on the schedule; undefined when the expression or the time zone cannot be used
 * (croner throws, some errors only when computing a date). Validation reports why.
 */
function withCron<T>(schedule: string, timeZone: string | undefined, use: (cron: Cron) => T): T | undefined {
  try {
    return use(new Cron(expandSchedule(schedule), { paused: true, timezone: timeZone ?? 'UTC' }));
  } catch {
    return undefined;
  }
}

/** The most recent tick at or before `now`, or undefined when there is none. */
export function latestTick(schedule: string, timeZone: string | undefined, now: number): number | undefined {
  return withCron(schedule, timeZone, (c) => c.previousRuns(1, new Date(now + 1))[0]?.getTime());
}

/** The first tick strictly after `now`. */
export function nextTick(schedule: string, timeZone: string | undefined, now: number): number | undefined {
  return withCron(schedule, timeZone, (c) => c.nextRun(new Date(now))?.getTime());
}
