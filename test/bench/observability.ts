/**
 * Benchmark: what observability costs the controller, in process (docs/performance.md).
 *
 * 1. Per run: the work the recording replica does for a finished three-step run besides
 *    recording it — run metrics (observations + counters), freshness gauges, run log lines (a
 *    JSON logger writing to /dev/null), and with tracing the fold, the span plan and the SDK's
 *    span creation (queued in a batch processor that never sends them). CPU µs per run,
 *    median of BENCH_RUNS (5) rounds of 2,000 runs, against the floor measured in the same round:
 *    folding the run's events into a history (what recording them costs at least).
 * 2. /metrics with 10,000 pipelines: every per-pipeline gauge set (last run, last success, next
 *    schedule, run deadline) plus run counters for 10 namespaces × 5 plugins; the scrape's
 *    serialization time (median of 20) and size, against the floor of joining the same text.
 *
 *   node --import tsx test/bench/observability.ts
 */
import { createWriteStream } from 'node:fs';
import { Registry } from 'prom-client';
import { createLogger } from '../../controller/log.js';
import { freshnessOf } from '../../controller/pipeline/freshness.js';
import { FreshnessMetrics } from '../../controller/pipeline/freshness-metrics.js';
import { emptyHistory, foldHistory } from '../../controller/pipeline/history.js';
import { runLogLines } from '../../controller/pipeline/run-log.js';
import { RunMetrics } from '../../controller/pipeline/run-metrics.js';
import { observationsOf } from '../../controller/pipeline/run-observations.js';
import { foldFinishingRuns } from '../../controller/tracing/finished-runs.js';
import { runTraceOf } from '../../controller/tracing/run-trace.js';
import { RunTracer } from '../../controller/tracing/run-tracer.js';
import { median } from './stats.js';

const ROUNDS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5));
const RUNS_PER_ROUND = 2000;
const PIPELINES = 10_000;

const at = (ms: number): string => new Date(ms).toISOString();
const spec = {
  steps: [
    { name: 'extract', plugin: 'tap-postgres', target: { plugin: 'target-postgres' } },
    { name: 'transform', plugin: 'dbt', dependsOn: ['extract'] },
    { name: 'test', plugin: 'dbt', dependsOn: ['transform'] },
  ],
};

/** The events of one finished run, as the planner writes them. */
function runEvents(i: number): { id: string; type: string; data: Record<string, unknown> }[] {
  const runId = `m-${i}-3f9c1e2a`;
  const t = 1_796_000_000_000 + i * 60_000;
  const events: { type: string; data: Record<string, unknown> }[] = [
    {
      type: 'RunStarted',
      data: {
        runId,
        runKey: `m-${i}`,
        trigger: 'Manual',
        request: String(i),
        fullRefresh: [],
        spec,
        at: at(t),
      },
    },
  ];
  spec.steps.forEach((s, k) => {
    const ref = { runId, step: s.name, attempt: 1 };
    events.push(
      {
        type: 'StepAttemptScheduled',
        data: { ...ref, pod: `orders-m-${i}-${s.name}-1`, at: at(t + k * 10_000) },
      },
      { type: 'StepAttemptStarted', data: { ...ref, at: at(t + k * 10_000 + 2000) } },
      {
        type: 'StepAttemptFinished',
        data: { ...ref, phase: 'Succeeded', exitCode: 0, at: at(t + k * 10_000 + 9000) },
      },
    );
  });
  events.push({ type: 'RunFinished', data: { runId, phase: 'Succeeded', at: at(t + 30_000) } });
  return events.map((e, k) => ({ id: `${i}-${k}`, ...e }));
}

const recorded = (events: ReturnType<typeof runEvents>, from: number): Parameters<typeof foldHistory>[0] =>
  events.map((e, k) => ({
    ...e,
    recordedAt: new Date(String(e.data.at)),
    streamVersion: from + k,
    position: from + k + 1,
  }));

function cpuMicros(work: () => void): number {
  const before = process.cpuUsage();
  work();
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

function perRun(): void {
  const registry = new Registry();
  const metrics = RunMetrics.of(registry);
  const freshness = FreshnessMetrics.of(registry);
  const sink = createWriteStream('/dev/null');
  const logger = createLogger({ level: 'info', format: 'json' });
  // The controller logs to stderr: while measuring, the same formatting goes to /dev/null.
  const stderrWrite = process.stderr.write.bind(process.stderr);
  process.stderr.write = (chunk: string | Uint8Array): boolean => sink.write(chunk);
  const tracer = new RunTracer(
    {
      endpoint: 'http://127.0.0.1:9/v1/traces',
      serviceName: 'bench',
      batch: { maxQueueSize: 1_000_000, scheduledDelayMillis: 3_600_000 },
    },
    logger,
  );
  const pipeline = { namespace: 'data', name: 'orders' };
  /** What the recording replica does for a recorded run besides recording it. */
  const observe = (events: ReturnType<typeof runEvents>, tracing: boolean): void => {
    const after = foldHistory(recorded(events, 0));
    metrics.report(pipeline.namespace, pipeline.name, observationsOf(events, after));
    freshness.set(
      pipeline.namespace,
      pipeline.name,
      freshnessOf(after, undefined, undefined, () => 3_600_000),
    );
    for (const line of runLogLines(pipeline, events, tracing)) logger[line.level](line.message, line.fields);
    if (!tracing) return;
    for (const { run } of foldFinishingRuns(emptyHistory(), recorded(events, 0))) {
      const trace = runTraceOf(pipeline, run);
      if (trace) tracer.export(trace);
    }
  };
  const inputs = Array.from({ length: RUNS_PER_ROUND }, (_, i) => runEvents(i));
  const rows: { floor: number; metrics: number; tracing: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const floor = cpuMicros(() => {
      for (const events of inputs) foldHistory(recorded(events, 0));
    });
    const withMetrics = cpuMicros(() => {
      for (const events of inputs) observe(events, false);
    });
    const withTracing = cpuMicros(() => {
      for (const events of inputs) observe(events, true);
    });
    rows.push({
      floor: floor / RUNS_PER_ROUND,
      metrics: (withMetrics - floor) / RUNS_PER_ROUND,
      tracing: (withTracing - floor) / RUNS_PER_ROUND,
    });
  }
  process.stderr.write = stderrWrite;
  const m = (k: 'floor' | 'metrics' | 'tracing'): number => median(rows.map((r) => r[k]));
  console.error(
    [
      `per finished three-step run (medians of ${ROUNDS} rounds of ${RUNS_PER_ROUND}):`,
      `  floor: folding its events          ${m('floor').toFixed(1)} µs CPU`,
      `  metrics + freshness + run logs     ${m('metrics').toFixed(1)} µs CPU (${(m('metrics') / m('floor')).toFixed(2)} × floor)`,
      `  ... + tracing (fold, spans, SDK)   ${m('tracing').toFixed(1)} µs CPU (${(m('tracing') / m('floor')).toFixed(2)} × floor)`,
    ].join('\n'),
  );
  // The spans stay queued: the exporter points nowhere, and the process exits after the scrape.
}

async function scrape(): Promise<void> {
  const registry = new Registry();
  const metrics = RunMetrics.of(registry);
  const freshness = FreshnessMetrics.of(registry);
  const now = 1_796_000_000_000;
  for (let i = 0; i < PIPELINES; i++) {
    freshness.set(`team-${i % 10}`, `pipeline-${i}`, {
      lastRunAt: now - 60_000,
      lastSuccessAt: now - 30_000,
      nextScheduleAt: now + 3_600_000,
      runDeadlineAt: now + 7_200_000,
    });
  }
  for (let ns = 0; ns < 10; ns++) {
    for (let p = 0; p < 5; p++) {
      const events = runEvents(ns * 5 + p);
      metrics.report(`team-${ns}`, `pipeline-${p}`, observationsOf(events, foldHistory(recorded(events, 0))));
    }
  }
  const times: number[] = [];
  const floors: number[] = [];
  let text = '';
  for (let k = 0; k < 20; k++) {
    const t0 = performance.now();
    text = await registry.metrics();
    times.push(performance.now() - t0);
    const lines = text.split('\n');
    const t1 = performance.now();
    lines.join('\n');
    floors.push(performance.now() - t1);
  }
  const series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  console.error(
    [
      `/metrics with ${PIPELINES} pipelines (4 gauges each) and run counters: ${series} series,`,
      `  ${(Buffer.byteLength(text) / 1024 / 1024).toFixed(2)} MiB (${(Buffer.byteLength(text) / series).toFixed(0)} bytes a series),`,
      `  serialized in ${median(times).toFixed(1)} ms (median of 20; floor, joining the same lines: ${median(floors).toFixed(1)} ms)`,
    ].join('\n'),
  );
}

perRun();
await scrape();
process.exit(0);
