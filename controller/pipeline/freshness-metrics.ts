/**
 * Per-pipeline freshness gauges, as kube-state-metrics exports per-object timestamps: bounded
 * by the number of pipelines, set by the replica leading the pipeline, dropped when the
 * pipeline goes or another replica takes it over.
 */
import { Gauge, type Registry } from 'prom-client';
import { perRegistry } from '../per-registry.js';
import type { Freshness } from './freshness.js';

type Labels = 'namespace' | 'pipeline';

export class FreshnessMetrics {
  /** The freshness gauges of `registry`, created on first use. */
  static readonly of = perRegistry((registry) => new FreshnessMetrics(registry));

  private readonly gauges: Record<keyof Freshness, Gauge<Labels>>;

  private constructor(registry: Registry) {
    const gauge = (name: string, help: string): Gauge<Labels> =>
      new Gauge({ name, help, labelNames: ['namespace', 'pipeline'], registers: [registry] });
    this.gauges = {
      lastRunAt: gauge(
        'flexcore_pipeline_last_run_timestamp_seconds',
        'When the pipeline last started a run (Unix seconds).',
      ),
      lastSuccessAt: gauge(
        'flexcore_pipeline_last_success_timestamp_seconds',
        'When a run of the pipeline last succeeded (Unix seconds); absent until one has.',
      ),
      nextScheduleAt: gauge(
        'flexcore_pipeline_next_schedule_timestamp_seconds',
        'When the pipeline runs next by its schedule (Unix seconds); absent without a schedule or while suspended.',
      ),
      runDeadlineAt: gauge(
        'flexcore_pipeline_run_deadline_timestamp_seconds',
        'When the controller must have ended the active run or its running step attempt at the latest (Unix seconds); absent while no run is active.',
      ),
    };
  }

  /** Sets the pipeline's gauges; a value that is unknown removes its series. */
  set(namespace: string, pipeline: string, f: Freshness): void {
    for (const key of Object.keys(this.gauges) as (keyof Freshness)[]) {
      const value = f[key];
      if (value === undefined) this.gauges[key].remove({ namespace, pipeline });
      else this.gauges[key].set({ namespace, pipeline }, value / 1000);
    }
  }

  /** Drops the pipeline's series: it was deleted, or another replica leads it now. */
  forget(namespace: string, pipeline: string): void {
    for (const gauge of Object.values(this.gauges)) gauge.remove({ namespace, pipeline });
  }
}
