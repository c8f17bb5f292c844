/** Freshness of a pipeline: from the held history, the stored fallback, and the gauges it sets. */
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { freshnessOf } from '../../controller/pipeline/freshness.js';
import { FreshnessMetrics } from '../../controller/pipeline/freshness-metrics.js';
import { HOUR, MINUTE, T0, ev, historyOf, pipelineObject, step } from './support/pipeline-fixtures.js';

const spec = pipelineObject({ steps: [step('a')] }).spec;

describe('pipeline freshness', () => {
  const history = historyOf(
    ev.runStarted('r1', spec, T0),
    ev.runFinished('r1', 'Succeeded', T0 + MINUTE),
    ev.runStarted('r2', spec, T0 + HOUR, { trigger: 'Manual' }),
    ev.runFinished('r2', 'Failed', T0 + HOUR + MINUTE),
  );

  it('takes the newest run and the newest success from the history', () => {
    expect(freshnessOf(history, undefined, T0 + 2 * HOUR)).to.deep.equal({
      lastRunAt: T0 + HOUR,
      lastSuccessAt: T0 + MINUTE,
      nextScheduleAt: T0 + 2 * HOUR,
    });
  });

  it('keeps a stored success the history no longer holds, and prefers newer held values', () => {
    const failing = historyOf(ev.runStarted('r9', spec, T0), ev.runFinished('r9', 'Failed', T0 + MINUTE));
    expect(freshnessOf(failing, { lastSuccessAt: T0 - HOUR, lastRunAt: T0 - HOUR }, undefined)).to.deep.equal(
      {
        lastRunAt: T0,
        lastSuccessAt: T0 - HOUR,
        nextScheduleAt: undefined,
      },
    );
  });

  it('sets gauges in Unix seconds and removes the series of unknown values and forgotten pipelines', async () => {
    const registry = new Registry();
    const gauges = FreshnessMetrics.of(registry);
    gauges.set('data', 'orders', freshnessOf(history, undefined, undefined));
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
