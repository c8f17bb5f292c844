/**
 * What recorded events count for in the run metrics: results, reasons with bounded values,
 * durations from the history, retries and skipped ticks; and the metrics they move.
 */
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { RunMetrics } from '../../controller/pipeline/run-metrics.js';
import {
  observationsOf,
  reasonLabel,
  type RunObservation,
} from '../../controller/pipeline/run-observations.js';
import { MAX_STREAMS } from '../../controller/pipeline/singer-records.js';
import type { NewEvent } from '../../controller/store/recorded-event.js';
import { MINUTE, T0, ev, historyOf, pipelineObject, step } from './support/pipeline-fixtures.js';

const spec = pipelineObject({ steps: [step('extract', { plugin: 'tap-pg' }), step('load')] }).spec;
const asNew = (events: ReturnType<typeof ev.scheduled>[]): NewEvent[] =>
  events.map((e, i) => ({ id: `00000000-0000-5000-8000-${String(i).padStart(12, '0')}`, ...e }));

describe('run observations (what the run metrics count)', () => {
  const events = [
    ev.runStarted('r1', spec, T0, { trigger: 'Schedule' }),
    ev.scheduled('r1', 'extract', T0),
    ev.started('r1', 'extract', T0 + MINUTE),
    ev.finished('r1', 'extract', T0 + 3 * MINUTE, { phase: 'Failed', exitCode: 137, reason: 'OOMKilled' }),
    ev.scheduled('r1', 'extract', T0 + 4 * MINUTE, 2),
    ev.finished('r1', 'extract', T0 + 5 * MINUTE, { phase: 'Failed', exitCode: 2 }, 2),
    ev.runFinished('r1', 'Failed', T0 + 10 * MINUTE),
  ];
  const after = historyOf(...events);

  it('reads results, reasons, plugins and durations from the events and the history they led to', () => {
    expect(observationsOf(asNew(events), after)).to.deep.equal([
      { kind: 'runStarted', trigger: 'Schedule' },
      { kind: 'attemptFinished', plugin: 'tap-pg', result: 'Failed', reason: 'OOMKilled', seconds: 120 },
      { kind: 'retry', plugin: 'tap-pg' },
      // Never started: timed from its scheduling.
      { kind: 'attemptFinished', plugin: 'tap-pg', result: 'Failed', reason: 'ExitCode2', seconds: 60 },
      { kind: 'runFinished', result: 'Failed', seconds: 600 },
    ]);
  });

  it('keeps reason labels bounded: identifiers only, free text is Other', () => {
    expect(reasonLabel('NeverStarted', undefined)).to.equal('NeverStarted');
    expect(reasonLabel('Error', 1)).to.equal('ExitCode1');
    expect(reasonLabel('ExitCode137', 137)).to.equal('ExitCode137');
    expect(reasonLabel(undefined, 0)).to.equal('None');
    expect(reasonLabel('exit status 1: no such table "orders"', undefined)).to.equal('Other');
    expect(reasonLabel('x'.repeat(41), undefined)).to.equal('Other');
  });

  it('counts skipped schedule ticks by reason', () => {
    const skipped: NewEvent = {
      id: '00000000-0000-5000-8000-000000000099',
      type: 'ScheduleTickSkipped',
      data: { tickMs: T0, reason: 'ConcurrencyForbid' },
    };
    expect(observationsOf([skipped], after)).to.deep.equal([
      { kind: 'tickSkipped', reason: 'ConcurrencyForbid' },
    ]);
  });

  it('labels at most MAX_STREAMS streams per pipeline container, the rest (other), and drops them when it goes', async () => {
    const registry = new Registry();
    const metrics = RunMetrics.of(registry);
    const counted = (streams: Record<string, number>): RunObservation[] =>
      Object.entries(streams).map(([stream, count]) => ({
        kind: 'records',
        container: 'tap',
        stream,
        count,
      }));
    const many = Object.fromEntries(Array.from({ length: MAX_STREAMS }, (_, i) => [`s${i}`, 1]));
    metrics.report('data', 'orders', counted(many));
    metrics.report('data', 'orders', counted({ late: 7, more: 2, s0: 1 }));
    metrics.report('data', 'other', counted({ kept: 1 }));
    let text = await registry.metrics();
    expect(text).to.include(
      'flexcore_singer_records_total{namespace="data",pipeline="orders",container="tap",stream="(other)"} 9',
    );
    expect(text).to.include(
      'flexcore_singer_records_total{namespace="data",pipeline="orders",container="tap",stream="s0"} 2',
    );
    metrics.forget('data', 'orders');
    text = await registry.metrics();
    expect(text).to.not.include('pipeline="orders"');
    expect(text).to.include('pipeline="other"');
  });

  it('moves the Prometheus series of the pipeline namespace', async () => {
    const registry = new Registry();
    const metrics = RunMetrics.of(registry);
    expect(RunMetrics.of(registry)).to.equal(metrics);
    const counted = {
      id: 'c1',
      type: 'SingerRecordsCounted',
      data: {
        runId: 'r',
        step: 'el',
        attempt: 1,
        container: 'tap',
        streams: { 'public-orders': 20000 },
        truncated: false,
      },
    };
    metrics.report('data', 'orders', observationsOf([...asNew(events), counted], after));
    metrics.report('data', 'orders', observationsOf([counted], after));
    const text = await registry.metrics();
    expect(text).to.include('flexcore_runs_started_total{namespace="data",trigger="Schedule"} 1');
    expect(text).to.include('flexcore_runs_finished_total{namespace="data",result="Failed"} 1');
    expect(text).to.include(
      'flexcore_step_attempts_finished_total{namespace="data",plugin="tap-pg",result="Failed",reason="OOMKilled"} 1',
    );
    expect(text).to.include('flexcore_step_retries_total{namespace="data",plugin="tap-pg"} 1');
    expect(text, 'summed over attempts').to.include(
      'flexcore_singer_records_total{namespace="data",pipeline="orders",container="tap",stream="public-orders"} 40000',
    );
    expect(text).to.include(
      'flexcore_run_duration_seconds_bucket{le="600",namespace="data",result="Failed"} 1',
    );
    expect(text).to.include(
      'flexcore_run_duration_seconds_bucket{le="300",namespace="data",result="Failed"} 0',
    );
  });
});
