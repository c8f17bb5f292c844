/**
 * The log lines of a recorded batch (pure): one per run transition, each with the fields log
 * tools join on — namespace, pipeline, runId, step, attempt — and, when tracing is on, the
 * trace_id and span_id of the run's trace (known from the run id before the trace is sent).
 */
import type { NewEvent } from '../store/recorded-event.js';
import { attemptSpanIdOf, rootSpanIdOf, traceIdOf } from './trace-ids.js';

export interface RunLogLine {
  readonly level: 'info' | 'warn';
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

const MESSAGES: Record<string, string> = {
  RunStarted: 'run started',
  RunFinished: 'run finished',
  CatalogDiscoveryScheduled: 'catalog discovery scheduled',
  StepAttemptScheduled: 'step attempt scheduled',
  StepAttemptStarted: 'step attempt started',
  StepAttemptFinished: 'step attempt finished',
  StepSkipped: 'step skipped',
  ScheduleTickSkipped: 'schedule tick skipped',
};

/** What of an event's data a log line shows (never configs, states or log text). */
const SHOWN = ['trigger', 'pod', 'phase', 'exitCode', 'reason', 'tickMs'] as const;

export function runLogLines(
  pipeline: { readonly namespace: string; readonly name: string },
  events: readonly NewEvent[],
  tracing: boolean,
): RunLogLine[] {
  const lines: RunLogLine[] = [];
  for (const e of events) {
    const message = MESSAGES[e.type];
    if (!message) continue;
    const d = e.data;
    const runId = typeof d.runId === 'string' ? d.runId : undefined;
    const step = typeof d.step === 'string' ? d.step : undefined;
    const attempt = typeof d.attempt === 'number' ? d.attempt : undefined;
    const fields: Record<string, unknown> = {
      namespace: pipeline.namespace,
      pipeline: pipeline.name,
      ...(runId && { runId }),
      ...(step && { step }),
      ...(attempt !== undefined && { attempt }),
    };
    for (const key of SHOWN) if (d[key] !== undefined) fields[key] = d[key];
    if (tracing && runId) {
      fields.trace_id = traceIdOf(runId);
      fields.span_id =
        step && attempt !== undefined ? attemptSpanIdOf(runId, step, attempt) : rootSpanIdOf(runId);
    }
    const failed = d.phase === 'Failed' || d.phase === 'TimedOut';
    lines.push({ level: failed ? 'warn' : 'info', message, fields });
  }
  return lines;
}
