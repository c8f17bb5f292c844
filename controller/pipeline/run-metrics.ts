/**
 * Prometheus metrics of runs and step attempts, reported by the replica that records them
 * (the leader of the pipeline's scope), so summing over replicas counts each run once.
 * Labels are bounded: namespace, trigger, result, plugin and a reason of at most 40 letters
 * and digits (docs/metrics.md states the cardinality).
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { perRegistry } from '../per-registry.js';
import type { RunObservation } from './run-observations.js';
import { MAX_STREAMS } from './singer-records.js';

/** The stream label of counts past a container's MAX_STREAMS distinct streams. */
const OTHER_STREAM = '(other)';

/** Seconds to a day: steps run from seconds (a dbt test) to hours (a full Singer sync). */
export const DURATION_BUCKETS = [
  1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400,
];

export class RunMetrics {
  /** The run metrics of `registry`, created on first use (several managers may share one). */
  static readonly of = perRegistry((registry) => new RunMetrics(registry));

  private readonly started: Counter<'namespace' | 'trigger'>;
  private readonly finished: Counter<'namespace' | 'result'>;
  private readonly runDuration: Histogram<'namespace' | 'result'>;
  private readonly attempts: Counter<'namespace' | 'plugin' | 'result' | 'reason'>;
  private readonly attemptDuration: Histogram<'namespace' | 'plugin' | 'result'>;
  private readonly retries: Counter<'namespace' | 'plugin'>;
  private readonly ticksSkipped: Counter<'namespace' | 'reason'>;
  private readonly records: Counter<'namespace' | 'pipeline' | 'container' | 'stream'>;
  /** The record series of each pipeline ("namespace/name"): container → streams. */
  private readonly recordSeries = new Map<string, Map<string, Set<string>>>();

  private constructor(registry: Registry) {
    const registers = [registry];
    this.started = new Counter({
      name: 'flexcore_runs_started_total',
      help: 'Runs started, by namespace and trigger (Generation, Manual, Schedule).',
      labelNames: ['namespace', 'trigger'],
      registers,
    });
    this.finished = new Counter({
      name: 'flexcore_runs_finished_total',
      help: 'Runs finished, by namespace and result (Succeeded, Failed, Cancelled).',
      labelNames: ['namespace', 'result'],
      registers,
    });
    this.runDuration = new Histogram({
      name: 'flexcore_run_duration_seconds',
      help: 'Run duration from start to finish, by namespace and result.',
      labelNames: ['namespace', 'result'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.attempts = new Counter({
      name: 'flexcore_step_attempts_finished_total',
      help: 'Step attempts finished, by namespace, plugin, result and reason (OOMKilled, ExitCode<n>, Timeout, NeverStarted, ...).',
      labelNames: ['namespace', 'plugin', 'result', 'reason'],
      registers,
    });
    this.attemptDuration = new Histogram({
      name: 'flexcore_step_attempt_duration_seconds',
      help: 'Step attempt duration from its container starting (or its Pod being scheduled) to its end.',
      labelNames: ['namespace', 'plugin', 'result'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.retries = new Counter({
      name: 'flexcore_step_retries_total',
      help: 'Step attempts after the first, by namespace and plugin.',
      labelNames: ['namespace', 'plugin'],
      registers,
    });
    this.ticksSkipped = new Counter({
      name: 'flexcore_schedule_ticks_skipped_total',
      help: 'Schedule ticks not run (concurrency policy Forbid, a tick missed past its deadline), by reason.',
      labelNames: ['namespace', 'reason'],
      registers,
    });
    this.records = new Counter({
      name: 'flexcore_singer_records_total',
      help: 'Records by stream that Singer plugins counted in their METRIC lines: container tap (extracted), target (loaded) or plugin (a lone tap or target).',
      labelNames: ['namespace', 'pipeline', 'container', 'stream'],
      registers,
    });
  }

  /**
   * The stream label of a count: its stream, or "(other)" past MAX_STREAMS streams for the
   * pipeline's container over time (stream names come from plugins' logs).
   */
  private streamLabel(namespace: string, pipeline: string, o: { container: string; stream: string }): string {
    const key = `${namespace}/${pipeline}`;
    let containers = this.recordSeries.get(key);
    if (!containers) this.recordSeries.set(key, (containers = new Map<string, Set<string>>()));
    let streams = containers.get(o.container);
    if (!streams) containers.set(o.container, (streams = new Set<string>()));
    if (!streams.has(o.stream) && streams.size >= MAX_STREAMS) return OTHER_STREAM;
    streams.add(o.stream);
    return o.stream;
  }

  /** Drops a deleted pipeline's per-pipeline series. */
  forget(namespace: string, pipeline: string): void {
    const key = `${namespace}/${pipeline}`;
    for (const [container, streams] of this.recordSeries.get(key) ?? []) {
      for (const stream of [...streams, OTHER_STREAM])
        this.records.remove({ namespace, pipeline, container, stream });
    }
    this.recordSeries.delete(key);
  }

  /** Counts what one pipeline's recorded batch meant. */
  report(namespace: string, pipeline: string, observations: readonly RunObservation[]): void {
    for (const o of observations) {
      switch (o.kind) {
        case 'runStarted':
          this.started.inc({ namespace, trigger: o.trigger });
          break;
        case 'runFinished':
          this.finished.inc({ namespace, result: o.result });
          this.runDuration.observe({ namespace, result: o.result }, o.seconds);
          break;
        case 'attemptFinished':
          this.attempts.inc({ namespace, plugin: o.plugin, result: o.result, reason: o.reason });
          if (o.seconds !== undefined)
            this.attemptDuration.observe({ namespace, plugin: o.plugin, result: o.result }, o.seconds);
          break;
        case 'retry':
          this.retries.inc({ namespace, plugin: o.plugin });
          break;
        case 'tickSkipped':
          this.ticksSkipped.inc({ namespace, reason: o.reason });
          break;
        case 'records':
          this.records.inc(
            { namespace, pipeline, container: o.container, stream: this.streamLabel(namespace, pipeline, o) },
            o.count,
          );
          break;
      }
    }
  }
}
