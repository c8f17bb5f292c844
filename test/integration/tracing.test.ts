/**
 * Runs as OpenTelemetry traces, received by a real OpenTelemetry Collector: one trace per run
 * with the span tree and attributes the events say, TRACEPARENT in the step containers, and the
 * same trace again, ids and times alike, from `flexcore replay --traces`.
 */
import { expect } from 'chai';
import { attemptSpanIdOf, traceIdOf } from '../../controller/tracing/run-trace.js';
import { runFlexcore } from './support/async.js';
import { eventually, startEngine, type Engine } from './support/engine.js';
import { fake, pipeline, plugin } from './support/manifests.js';
import { startCollector, type Collector, type ReceivedSpan } from './support/otel-collector.js';

type Pipeline = { status?: { lastRun?: { id?: string; phase?: string } } };

describe('run traces to a real OpenTelemetry Collector', function () {
  this.timeout(180_000);
  let collector: Collector;
  let engine: Engine;
  before(async () => {
    collector = await startCollector();
    engine = await startEngine({
      prefix: 'trace',
      tracing: {
        endpoint: `${collector.endpoint}/v1/traces`,
        serviceName: 'flexcore-test',
        batch: { scheduledDelayMillis: 100 },
      },
    });
    await engine.apply(
      plugin('work'),
      pipeline('dag', {
        steps: [
          { name: 'a', plugin: 'work', podMetadata: fake() },
          { name: 'b', plugin: 'work', dependsOn: ['a'], podMetadata: fake() },
        ],
      }),
      pipeline('flaky', {
        steps: [
          {
            name: 'x',
            plugin: 'work',
            podMetadata: fake(3),
            retries: { limit: 1, backoff: { initialSeconds: 1 } },
          },
        ],
      }),
    );
  });
  after(async () => {
    await engine?.stop();
    await collector?.stop();
  });

  const finished = async (name: string): Promise<string> =>
    eventually(async () => {
      const run = (await engine.get<Pipeline>('flexpipeline', name)).status?.lastRun;
      return run?.phase && run.phase !== 'Running' && run.id;
    }, 60_000);
  const traceOf = (spans: ReceivedSpan[], runId: string): ReceivedSpan[] =>
    spans.filter((s) => s.traceId === traceIdOf(runId));
  /** What must be identical in a replayed span. */
  const essence = (s: ReceivedSpan): unknown => [
    s.service,
    s.traceId,
    s.spanId,
    s.parentSpanId,
    s.name,
    s.startTimeUnixNano,
    s.endTimeUnixNano,
    s.attributes,
    s.status,
    s.links,
  ];
  let live: ReceivedSpan[] = [];
  let dagRun = '';
  let flakyRun = '';

  it('receives one trace per run: the run, its step attempts, their Pod start, a retry linked to its attempt', async () => {
    dagRun = await finished('dag');
    flakyRun = await finished('flaky');
    live = await eventually(async () => {
      const spans = await collector.spans();
      return traceOf(spans, dagRun).length === 5 && traceOf(spans, flakyRun).length === 5 && spans;
    }, 30_000);
    expect(new Set(live.map((s) => s.traceId)).size, 'two runs, two traces').to.equal(2);

    const dag = traceOf(live, dagRun);
    const root = dag.find((s) => s.parentSpanId === '')!;
    expect(root.name).to.equal(`run ${engine.namespace}/dag`);
    expect(root.service).to.equal('flexcore-test');
    expect(root.attributes).to.deep.include({
      'flexcore.namespace': engine.namespace,
      'flexcore.pipeline': 'dag',
      'flexcore.run.id': dagRun,
      'flexcore.run.result': 'Succeeded',
    });
    expect(root.status.code ?? 0, 'no error status').to.not.equal(2);
    const steps = dag.filter((s) => s.parentSpanId === root.spanId);
    expect(steps.map((s) => s.name).sort()).to.deep.equal(['step a', 'step b']);
    for (const step of steps) {
      expect(step.attributes).to.deep.include({
        'flexcore.plugin': 'work',
        'flexcore.attempt.result': 'Succeeded',
      });
      expect(step.attributes['k8s.pod.name']).to.be.a('string');
      const children = dag.filter((s) => s.parentSpanId === step.spanId);
      expect(children.map((s) => s.name)).to.deep.equal(['pod start']);
      expect(BigInt(step.startTimeUnixNano) >= BigInt(root.startTimeUnixNano)).to.equal(true);
      expect(BigInt(step.endTimeUnixNano) <= BigInt(root.endTimeUnixNano)).to.equal(true);
    }
    const [a, b] = ['step a', 'step b'].map((n) => steps.find((s) => s.name === n)!);
    expect(BigInt(b!.startTimeUnixNano) >= BigInt(a!.endTimeUnixNano), 'b starts after a').to.equal(true);

    const flaky = traceOf(live, flakyRun);
    const flakyRoot = flaky.find((s) => s.parentSpanId === '')!;
    expect(flakyRoot.status.code, 'a failed run is an error').to.equal(2);
    const attempts = flaky
      .filter((s) => s.parentSpanId === flakyRoot.spanId)
      .sort((x, y) => Number(x.attributes['flexcore.attempt']) - Number(y.attributes['flexcore.attempt']));
    expect(
      attempts.map((s) => [s.attributes['flexcore.attempt'], s.attributes['flexcore.attempt.exit_code']]),
    ).to.deep.equal([
      [1, 3],
      [2, 3],
    ]);
    expect(attempts.every((s) => s.status.code === 2)).to.equal(true);
    expect(attempts[1]!.links).to.deep.equal([{ traceId: flakyRoot.traceId, spanId: attempts[0]!.spanId }]);
    expect(attempts[0]!.links).to.deep.equal([]);
  });

  it("passes the attempt's trace context into its containers as TRACEPARENT", async () => {
    const pod = JSON.parse(await engine.kubectl(['get', 'pod', 'dag-g1-a-1', '-o', 'json'])) as {
      spec: { containers: { env?: { name: string; value?: string }[] }[] };
    };
    const env = pod.spec.containers[0]!.env ?? [];
    expect(env.find((e) => e.name === 'TRACEPARENT')?.value).to.equal(
      `00-${traceIdOf(dagRun)}-${attemptSpanIdOf(dagRun, 'a', 1)}-01`,
    );
    const spanOfA = traceOf(live, dagRun).find((s) => s.name === 'step a')!;
    expect(spanOfA.spanId, 'the span the plugin would join is the one exported').to.equal(
      attemptSpanIdOf(dagRun, 'a', 1),
    );
  });

  it('exports the same traces again from the event log with flexcore replay --traces', async () => {
    const before = (await collector.spans()).length;
    const replay = await runFlexcore(['replay', '--traces'], {
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: engine.db.url,
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
        OTEL_SERVICE_NAME: 'flexcore-test',
      },
    });
    expect(replay.code, replay.stderr).to.equal(0);
    expect(replay.stdout).to.include('exported 2 run traces');
    const replayed = await eventually(async () => {
      const spans = (await collector.spans()).slice(before);
      return spans.length >= 10 && spans;
    }, 30_000);
    const key = (s: ReceivedSpan): string => s.spanId;
    const sorted = (spans: ReceivedSpan[]): unknown[] =>
      [...spans].sort((x, y) => key(x).localeCompare(key(y))).map(essence);
    expect(sorted(replayed)).to.deep.equal(sorted([...traceOf(live, dagRun), ...traceOf(live, flakyRun)]));
  });
});
