/**
 * A finished run as an OpenTelemetry trace (pure): a root span from RunStarted to RunFinished,
 * a span per step attempt (with the wait for its Pod to start, and its catalog discovery, as
 * children), a span per skipped step, and a link from each retry to the attempt before it.
 * Trace and span ids derive from the run id (pipeline/trace-ids.ts), so the same events give
 * the same trace on any replica, after a failover or from `flexcore replay --traces`.
 */
import type { AttemptState, RunState } from '../pipeline/history.js';
import { attemptSpanIdOf, rootSpanIdOf, spanIdOf, traceIdOf } from '../pipeline/trace-ids.js';

export { attemptSpanIdOf, rootSpanIdOf, traceIdOf, traceparentOf } from '../pipeline/trace-ids.js';

export type Attributes = Record<string, string | number | boolean>;

export interface PlannedSpan {
  readonly name: string;
  readonly spanId: string;
  /** Undefined for the root. */
  readonly parentSpanId?: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly attributes: Attributes;
  readonly error?: string;
  /** Span ids (in the same trace) this span follows from: a retry links to the attempt before. */
  readonly links: readonly string[];
}

export interface RunTrace {
  readonly traceId: string;
  /** The root first, then children after their parent. */
  readonly spans: readonly PlannedSpan[];
}

export interface PipelineRef {
  readonly namespace: string;
  readonly name: string;
}

function attemptAttributes(p: PipelineRef, run: RunState, step: string, a: AttemptState): Attributes {
  const spec = run.spec.steps.find((s) => s.name === step);
  return {
    'flexcore.step': step,
    'flexcore.attempt': a.attempt,
    'flexcore.attempt.result': a.phase,
    ...(spec && { 'flexcore.plugin': spec.plugin }),
    ...(spec?.target && { 'flexcore.target': spec.target.plugin }),
    ...(a.pod && { 'k8s.pod.name': a.pod }),
    'k8s.namespace.name': p.namespace,
    ...(a.exitCode !== undefined && { 'flexcore.attempt.exit_code': a.exitCode }),
    ...(a.reason !== undefined && { 'flexcore.attempt.reason': a.reason }),
  };
}

function attemptSpans(p: PipelineRef, run: RunState, step: string, end: number): PlannedSpan[] {
  const spans: PlannedSpan[] = [];
  const attempts = run.steps[step]?.attempts ?? [];
  for (const a of attempts) {
    const spanId = attemptSpanIdOf(run.id, step, a.attempt);
    const start = a.discoveryScheduledAt ?? a.scheduledAt;
    const finished = a.finishedAt ?? end;
    spans.push({
      name: `step ${step}`,
      spanId,
      parentSpanId: rootSpanIdOf(run.id),
      startMs: start,
      endMs: finished,
      attributes: attemptAttributes(p, run, step, a),
      ...((a.phase === 'Failed' || a.phase === 'TimedOut') && { error: a.reason ?? a.phase }),
      links: a.attempt > 1 ? [attemptSpanIdOf(run.id, step, a.attempt - 1)] : [],
    });
    if (a.discoveryScheduledAt !== undefined) {
      spans.push(child(run.id, step, a, 'discover', a.discoveryScheduledAt, a.scheduledAt));
    }
    // From the Pod being created to its container starting: scheduling, image pull, start-up.
    spans.push(child(run.id, step, a, 'pod start', a.scheduledAt, a.startedAt ?? finished));
  }
  return spans;
}

function child(
  runId: string,
  step: string,
  a: AttemptState,
  name: string,
  startMs: number,
  endMs: number,
): PlannedSpan {
  return {
    name,
    spanId: spanIdOf(runId, step, a.attempt, name),
    parentSpanId: attemptSpanIdOf(runId, step, a.attempt),
    startMs,
    endMs: Math.max(startMs, endMs),
    attributes: {},
    links: [],
  };
}

/** The trace of a finished run; undefined while it runs. */
export function runTraceOf(p: PipelineRef, run: RunState): RunTrace | undefined {
  if (run.finishedAt === undefined) return undefined;
  const end = run.finishedAt;
  const root: PlannedSpan = {
    name: `run ${p.namespace}/${p.name}`,
    spanId: rootSpanIdOf(run.id),
    startMs: run.startedAt,
    endMs: end,
    attributes: {
      'flexcore.namespace': p.namespace,
      'flexcore.pipeline': p.name,
      'flexcore.run.id': run.id,
      'flexcore.run.trigger': run.trigger,
      'flexcore.run.result': run.phase,
      ...(run.reason !== undefined && { 'flexcore.run.reason': run.reason }),
    },
    ...(run.phase === 'Failed' && { error: run.reason ?? 'Failed' }),
    links: [],
  };
  const spans = [root];
  for (const { name } of run.spec.steps) {
    const skipped = run.steps[name]?.skipped;
    if (skipped && (run.steps[name]?.attempts.length ?? 0) === 0) {
      spans.push({
        name: `step ${name}`,
        spanId: spanIdOf(run.id, name, 'skipped'),
        parentSpanId: root.spanId,
        startMs: skipped.at,
        endMs: skipped.at,
        attributes: { 'flexcore.step': name, 'flexcore.step.skipped': skipped.reason },
        links: [],
      });
    }
    spans.push(...attemptSpans(p, run, name, end));
  }
  return { traceId: traceIdOf(run.id), spans };
}
