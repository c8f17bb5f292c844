/**
 * Cron schedule and time zone checks. Kubernetes CronJob syntax: five fields or an @descriptor;
 * croner's own extensions (L, W, #, seconds) are refused so a manifest means the same here
 * as it would to a CronJob.
 */
import { Cron } from 'croner';

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const NAMES = /JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC|SUN|MON|TUE|WED|THU|FRI|SAT/gi;
const FIELD_NAMES = ['minute', 'hour', 'day of month', 'month', 'day of week'];

/** Five-field expression for a schedule, with descriptors expanded. */
export function expandSchedule(schedule: string): string {
  return DESCRIPTORS[schedule.trim()] ?? schedule.trim();
}

/** Returns a problem with the cron expression, or undefined when it is valid. */
export function scheduleProblem(schedule: string): string | undefined {
  const expr = expandSchedule(schedule);
  const fields = expr.split(/\s+/);
  if (fields.length !== 5) {
    return `cron expression must have 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
  }
  for (const [i, field] of fields.entries()) {
    if (/[^0-9A-Za-z*?,/-]/.test(field) || /[A-Za-z]/.test(field.replace(NAMES, ''))) {
      return `unsupported ${FIELD_NAMES[i]} field "${field}"`;
    }
  }
  let cron: Cron;
  try {
    // A fixed offset, not timezone 'UTC': the answer is the same, and croner then needs no
    // Intl.DateTimeFormat, whose first construction costs a cold `flexcore validate` ~20 ms.
    cron = new Cron(expr, { paused: true, utcOffset: 0 });
  } catch (err) {
    return `invalid cron expression: ${(err as Error).message.replace(/^CronPattern:\s*/, '')}`;
  }
  // A date that never exists (e.g. 31 February) would silently never run.
  if (cron.nextRun(new Date(Date.UTC(2000, 0, 1))) === null) return 'cron expression never fires';
  return undefined;
}

/**
 * Verdicts by time zone name: building a DateTimeFormat costs about a millisecond each time.
 * Bounded, as the controller validates names that users choose.
 */
const timeZoneVerdicts = new Map<string, string | undefined>();
const MAX_TIME_ZONE_VERDICTS = 1000;

/** Returns a problem with the IANA time zone name, or undefined when the runtime knows it. */
export function timeZoneProblem(timeZone: string): string | undefined {
  if (timeZoneVerdicts.has(timeZone)) return timeZoneVerdicts.get(timeZone);
  let problem: string | undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    problem = `unknown time zone "${timeZone}"; use an IANA name such as Europe/Berlin`;
  }
  if (timeZoneVerdicts.size < MAX_TIME_ZONE_VERDICTS) timeZoneVerdicts.set(timeZone, problem);
  return problem;
}
