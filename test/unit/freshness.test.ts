/** Freshness of a pipeline: from the held history, the stored fallback, and the gauges it sets. */
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { freshnessOf, runDeadlineOf } from '../../controller/pipeline/freshness.js';
import { FreshnessMetrics } from '../../controller/pipeline/freshness-metrics.js';
import { HOUR, MINUTE, T0, ev, historyOf, pipelineObject, step } from './support/pipeline-fixtures.js';

const spec = pipelineObject({ steps: [step('a')] }).spec;
const tenMinutes = (): number => 10 * MINUTE;

describe('pipeline freshness', () => {
  const history = historyOf(
    ev.runStarted('r1', spec, T0),
    ev.runFinished('r1', 'Succeeded', T0 + MINUTE),
    ev.runStarted('r2', spec, T0 + HOUR, { trigger: 'Manual' }),
    ev.runFinished('r2', 'Failed', T0 + HOUR + MINUTE),
  );

  it('takes the newest run and the newest success from the history', () => {
    expect(freshnessOf(history, undefined, T0 + 2 * HOUR, tenMinutes)).to.deep.equal({
      lastRunAt: T0 + HOUR,
      lastSuccessAt: T0 + MINUTE,
      nextScheduleAt: T0 + 2 * HOUR,
      runDeadlineAt: undefined,
    });
  });

  it('keeps a stored success the history no longer holds, and prefers newer held values', () => {
    const failing = historyOf(ev.runStarted('r9', spec, T0), ev.runFinished('r9', 'Failed', T0 + MINUTE));
    expect(
      freshnessOf(failing, { lastSuccessAt: T0 - HOUR, lastRunAt: T0 - HOUR }, undefined, tenMinutes),
    ).to.deep.equal({
      lastRunAt: T0,
      lastSuccessAt: T0 - HOUR,
      nextScheduleAt: undefined,
      runDeadlineAt: undefined,
    });
  });

  it("a run deadline: the earliest of activeDeadlineSeconds and each unfinished attempt's timeout", () => {
    const twoSteps = pipelineObject({ steps: [step('a'), step('b')] }).spec;
    const running = historyOf(
      ev.runStarted('r1', twoSteps, T0),
      ev.scheduled('r1', 'a', T0 + MINUTE),
      ev.started('r1', 'a', T0 + 2 * MINUTE),
      ev.scheduled('r1', 'b', T0 + 3 * MINUTE), // never started: counted from being scheduled
    );
    const timeouts = (_run: unknown, name: string): number => (name === 'a' ? 30 * MINUTE : 5 * MINUTE);
    expect(runDeadlineOf(running, timeouts)).to.equal(T0 + 8 * MINUTE);
    const withDeadline = historyOf(
      ev.runStarted('r1', { ...twoSteps, activeDeadlineSeconds: 60 }, T0),
      ev.scheduled('r1', 'a', T0 + MINUTE),
    );
    expect(runDeadlineOf(withDeadline, timeouts)).to.equal(T0 + MINUTE);
    const finishedStep = historyOf(
      ev.runStarted('r1', twoSteps, T0),
      ev.scheduled('r1', 'a', T0),
      ev.started('r1', 'a', T0),
      ev.finished('r1', 'a', T0 + MINUTE),
      ev.scheduled('r1', 'b', T0 + 2 * MINUTE),
    );
    expect(runDeadlineOf(finishedStep, timeouts)).to.equal(T0 + 7 * MINUTE);
    expect(runDeadlineOf(history, timeouts), 'no active run').to.equal(undefined);
  });

  it('sets gauges in Unix seconds and removes the series of unknown values and forgotten pipelines', async () => {
    const registry = new Registry();
    const gauges = FreshnessMetrics.of(registry);
    gauges.set('data', 'orders', freshnessOf(history, undefined, undefined, tenMinutes));
    let text = await registry.metrics();
    expect(text).to.include(
      `flexcore_pipeline_last_success_timestamp_seconds{namespace="data",pipeline="orders"} ${(T0 + MINUTE) / 1000}`,
    );
    expect(text).to.not.include('flexcore_pipeline_next_schedule_timestamp_seconds{');
    gauges.forget('data', 'orders');
    text = await registry.metrics();
    expect(text).to.not.include('pipeline="orders"');
  });
});
