/**
 * A run's trace and span ids (pure), derived from its id: the same events give the same ids on
 * any replica and in `flexcore replay --traces`, and a step's TRACEPARENT is known before its
 * Pod starts. The spans themselves are planned in controller/tracing/.
 */
import { createHash } from 'node:crypto';

const hex = (text: string, chars: number): string =>
  createHash('sha256').update(text).digest('hex').slice(0, chars);

/** The run's trace id: 32 hex digits from its id (run ids are unique per pipeline uid). */
export const traceIdOf = (runId: string): string => hex(`flexcore/run/${runId}`, 32);

/** A span id from the run id and the span's place in the run. */
export const spanIdOf = (...parts: (string | number)[]): string =>
  hex(`flexcore/span/${parts.join('/')}`, 16);

export const rootSpanIdOf = (runId: string): string => spanIdOf(runId);

export const attemptSpanIdOf = (runId: string, step: string, attempt: number): string =>
  spanIdOf(runId, step, attempt);

/** W3C trace context for a step attempt's containers: its span is their parent. */
export function traceparentOf(runId: string, step: string, attempt: number): string {
  return `00-${traceIdOf(runId)}-${attemptSpanIdOf(runId, step, attempt)}-01`;
}
