/** Runs as traces: the span tree, deterministic ids, and the same trace however the events are folded. */
import { expect } from 'chai';
import { asRecorded, emptyHistory } from '../../controller/pipeline/history.js';
import { RunTraces } from '../../controller/tracing/run-traces.js';
import { foldFinishingRuns } from '../../controller/tracing/finished-runs.js';
import {
  attemptSpanIdOf,
  rootSpanIdOf,
  runTraceOf,
  traceIdOf,
  traceparentOf,
  type RunTrace,
} from '../../controller/tracing/run-trace.js';
import { TracingConfigError, tracingConfig } from '../../controller/tracing/tracing-config.js';
import {
  MINUTE,
  NAMESPACE,
  PIPELINE,
  SECOND,
  T0,
  UID8,
  ev,
  historyOf,
  pipelineObject,
  step,
  type PlainEvent,
} from './support/pipeline-fixtures.js';

const spec = pipelineObject({
  steps: [step('extract', { plugin: 'tap-pg' }), step('load', { dependsOn: ['extract'] })],
}).spec;
const runId = `g1-${UID8}`;
const pipeline = { namespace: NAMESPACE, name: PIPELINE };
const withPipeline = (e: PlainEvent): PlainEvent =>
  e.type === 'RunStarted' ? { ...e, data: { ...e.data, pipeline } } : e;

/** extract fails once (OOMKilled) and succeeds on its retry; load then fails with exit code 3. */
const events: PlainEvent[] = [
  ev.runStarted('g1', spec, T0),
  ev.scheduled('g1', 'extract', T0),
  ev.started('g1', 'extract', T0 + 5 * SECOND),
  ev.finished('g1', 'extract', T0 + MINUTE, { phase: 'Failed', reason: 'OOMKilled', exitCode: 137 }),
  ev.scheduled('g1', 'extract', T0 + 2 * MINUTE, 2),
  ev.started('g1', 'extract', T0 + 2 * MINUTE + 3 * SECOND, 2),
  ev.finished('g1', 'extract', T0 + 3 * MINUTE, { phase: 'Succeeded', exitCode: 0 }, 2),
  ev.scheduled('g1', 'load', T0 + 3 * MINUTE),
  ev.started('g1', 'load', T0 + 3 * MINUTE + SECOND),
  ev.finished('g1', 'load', T0 + 4 * MINUTE, { phase: 'Failed', exitCode: 3 }),
  ev.runFinished('g1', 'Failed', T0 + 4 * MINUTE, 'StepFailed'),
].map(withPipeline);

const traceOf = (): RunTrace => runTraceOf(pipeline, historyOf(...events).runs[0]!)!;

describe('run traces', () => {
  it('a root span for the run, a span per attempt with its Pod start, retries linked to the attempt before', () => {
    const t = traceOf();
    expect(t.traceId)
      .to.match(/^[0-9a-f]{32}$/)
      .and.equal(traceIdOf(runId));
    const shape = t.spans.map((s) => [
      s.name,
      s.parentSpanId === undefined ? '-' : s.parentSpanId,
      s.startMs - T0,
      s.endMs - T0,
    ]);
    const root = rootSpanIdOf(runId);
    const a1 = attemptSpanIdOf(runId, 'extract', 1);
    const a2 = attemptSpanIdOf(runId, 'extract', 2);
    const l1 = attemptSpanIdOf(runId, 'load', 1);
    expect(shape).to.deep.equal([
      [`run ${NAMESPACE}/${PIPELINE}`, '-', 0, 4 * MINUTE],
      ['step extract', root, 0, MINUTE],
      ['pod start', a1, 0, 5 * SECOND],
      ['step extract', root, 2 * MINUTE, 3 * MINUTE],
      ['pod start', a2, 2 * MINUTE, 2 * MINUTE + 3 * SECOND],
      ['step load', root, 3 * MINUTE, 4 * MINUTE],
      ['pod start', l1, 3 * MINUTE, 3 * MINUTE + SECOND],
    ]);
    expect(t.spans[0]!.attributes).to.deep.include({
      'flexcore.namespace': NAMESPACE,
      'flexcore.pipeline': PIPELINE,
      'flexcore.run.id': runId,
      'flexcore.run.trigger': 'Generation',
      'flexcore.run.result': 'Failed',
      'flexcore.run.reason': 'StepFailed',
    });
    expect(t.spans[0]!.error).to.equal('StepFailed');
    expect(t.spans[1]!.attributes).to.deep.include({
      'flexcore.step': 'extract',
      'flexcore.attempt': 1,
      'flexcore.plugin': 'tap-pg',
      'flexcore.attempt.result': 'Failed',
      'flexcore.attempt.reason': 'OOMKilled',
      'flexcore.attempt.exit_code': 137,
      'k8s.namespace.name': NAMESPACE,
    });
    expect(t.spans[1]!.error).to.equal('OOMKilled');
    expect(t.spans[3]!.links).to.deep.equal([a1]);
    expect(t.spans[3]!.error).to.equal(undefined);
    expect(t.spans[5]!.error, 'a failure without a reason shows its phase').to.equal('Failed');
    expect(new Set(t.spans.map((s) => s.spanId)).size).to.equal(t.spans.length);
  });

  it('shows a skipped step as an instant span, and none for an unfinished run', () => {
    const skipped = historyOf(
      ev.runStarted('g1', spec, T0),
      ev.scheduled('g1', 'extract', T0),
      ev.finished('g1', 'extract', T0 + MINUTE, { phase: 'Failed', exitCode: 1 }),
      ev.skipped('g1', 'load', 'UpstreamFailed', T0 + MINUTE),
      ev.runFinished('g1', 'Failed', T0 + MINUTE),
    ).runs[0]!;
    const load = runTraceOf(pipeline, skipped)!.spans.find((s) => s.name === 'step load')!;
    expect(load).to.deep.include({ startMs: T0 + MINUTE, endMs: T0 + MINUTE });
    expect(load.attributes).to.deep.equal({
      'flexcore.step': 'load',
      'flexcore.step.skipped': 'UpstreamFailed',
    });
    expect(runTraceOf(pipeline, historyOf(...events.slice(0, 3)).runs[0]!)).to.equal(undefined);
  });

  it('gives each attempt a TRACEPARENT whose parent is that attempt’s span', () => {
    expect(traceparentOf(runId, 'load', 1)).to.equal(
      `00-${traceIdOf(runId)}-${attemptSpanIdOf(runId, 'load', 1)}-01`,
    );
    expect(traceIdOf('other-run')).to.not.equal(traceIdOf(runId));
  });

  it('finishes the same run the same way, folded batch by batch (live) or all at once (replay)', () => {
    const replayed = foldFinishingRuns(emptyHistory(), asRecorded(events, -1, []));
    expect(replayed).to.have.length(1);
    expect(replayed[0]!.pipeline).to.deep.equal(pipeline);
    // Live: the history before the last batch, then the batch that finished the run.
    const before = historyOf(...events.slice(0, 8));
    const live = foldFinishingRuns(structuredClone(before), asRecorded(events.slice(8), 7, [9, 10, 11]));
    expect(live).to.have.length(1);
    expect(runTraceOf(pipeline, live[0]!.run)).to.deep.equal(runTraceOf(pipeline, replayed[0]!.run));
    expect(runTraceOf(pipeline, live[0]!.run)).to.deep.equal(traceOf());
    expect(before.runs[0]!.finishedAt, 'the caller’s history is left alone').to.equal(undefined);
  });

  it('sends, live, what replay sends: the runs a recorded batch finishes, and nothing for other batches', () => {
    const sent: RunTrace[] = [];
    const traces = new RunTraces({ export: (t) => sent.push(t) });
    const before = historyOf(...events.slice(0, 8));
    traces.recorded(
      pipeline,
      historyOf(...events.slice(0, 4)),
      asRecorded(events.slice(4, 8), 3, [5, 6, 7, 8]),
    );
    expect(sent, 'no RunFinished in the batch').to.deep.equal([]);
    traces.recorded(pipeline, before, asRecorded(events.slice(8), 7, [9, 10, 11]));
    expect(sent).to.deep.equal([traceOf()]);
  });
});

describe('tracing configuration (OTEL_* variables)', () => {
  it('is off without an endpoint, or when disabled', () => {
    expect(tracingConfig({})).to.equal(undefined);
    expect(
      tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }),
    ).to.equal(undefined);
    expect(
      tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_TRACES_EXPORTER: 'none' }),
    ).to.equal(undefined);
  });

  it('sends to the base endpoint’s /v1/traces, or to the traces endpoint as given', () => {
    expect(tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' })).to.deep.equal({
      endpoint: 'http://c:4318/v1/traces',
      serviceName: 'flexcore',
      batch: {},
    });
    expect(
      tracingConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://t:443/in',
        OTEL_SERVICE_NAME: 'flexcore-prod',
        OTEL_BSP_SCHEDULE_DELAY: '200',
      }),
    ).to.deep.equal({
      endpoint: 'https://t:443/in',
      serviceName: 'flexcore-prod',
      batch: { scheduledDelayMillis: 200 },
    });
  });

  it('refuses what it cannot honour, naming the variable', () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'c:4318' }, /OTEL_EXPORTER_OTLP_ENDPOINT must be an http/],
      [
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_TRACES_EXPORTER: 'zipkin' },
        /OTEL_TRACES_EXPORTER must be otlp/,
      ],
      [
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
        /OTEL_EXPORTER_OTLP_PROTOCOL must be http/,
      ],
      [
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c', OTEL_BSP_MAX_QUEUE_SIZE: '-1' },
        /OTEL_BSP_MAX_QUEUE_SIZE must be a positive/,
      ],
    ];
    for (const [env, message] of bad) {
      expect(() => tracingConfig(env), JSON.stringify(env)).to.throw(TracingConfigError, message);
    }
  });
});
