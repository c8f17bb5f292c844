/**
 * Keeps the freshness gauges of the pipelines this replica leads: set after each reconcile
 * from the history, with the stored fallback read once per pipeline while it is led here;
 * dropped when the pipeline goes or its scope moves to another replica.
 */
import type { PipelineObject, PluginObject } from '../objects.js';
import { freshnessOf, type Freshness, type StepTimeoutMs } from './freshness.js';
import type { FreshnessMetrics } from './freshness-metrics.js';
import type { History } from './history.js';
import { effectiveTimeoutSeconds } from './step-policy.js';
import { nextScheduleTime } from './triggers.js';

export type StoredFreshness = Omit<Freshness, 'nextScheduleAt' | 'runDeadlineAt'>;

/** Step timeouts as the planner applies them: from the run's spec and today's plugins. */
const timeoutsWith =
  (plugins: ReadonlyMap<string, PluginObject>): StepTimeoutMs =>
  (run, name) => {
    const step = run.spec.steps.find((s) => s.name === name);
    return step ? effectiveTimeoutSeconds(step, plugins.get(step.plugin)) * 1000 : Infinity;
  };

interface Held {
  readonly namespace: string;
  readonly name: string;
  readonly stored: Promise<StoredFreshness>;
}

export class FreshnessReporter {
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly metrics: FreshnessMetrics,
    private readonly stored: (namespace: string, name: string) => Promise<StoredFreshness>,
  ) {}

  async report(
    p: PipelineObject,
    history: History,
    plugins: ReadonlyMap<string, PluginObject>,
    now: number,
  ): Promise<void> {
    const { uid, namespace, name } = p.metadata;
    let held = this.held.get(uid);
    if (!held) {
      held = { namespace, name, stored: this.stored(namespace, name) };
      this.held.set(uid, held);
    }
    let stored: StoredFreshness;
    try {
      stored = await held.stored;
    } catch (err) {
      this.held.delete(uid); // read again on the next reconcile
      throw err;
    }
    if (this.held.get(uid) !== held) return; // forgotten meanwhile: another replica leads it
    const freshness = freshnessOf(history, stored, nextScheduleTime(p, now), timeoutsWith(plugins));
    this.metrics.set(namespace, name, freshness);
  }

  forget(uid: string): void {
    const held = this.held.get(uid);
    if (!held) return;
    this.held.delete(uid);
    this.metrics.forget(held.namespace, held.name);
  }
}
