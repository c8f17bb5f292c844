import { expect } from 'chai';
import type { FlexPipelineStatus } from '../../api/v1alpha1/index.js';
import { pipelineStream } from '../../controller/pipeline/naming.js';
import { startHttpServer } from '../../controller/server/http-server.js';
import { eventually, startEngine, type Engine } from './support/engine.js';
import { fake, pipeline, plugin } from './support/manifests.js';

type WithStatus = { metadata: { uid: string }; status?: FlexPipelineStatus };

describe('engine: a DAG run', function () {
  this.timeout(120_000);
  let engine: Engine;
  before(async () => {
    engine = await startEngine({ prefix: 'dag' });
  });
  after(async () => engine?.stop());

  it('runs a 3-step DAG with a parallel branch in order and records a complete event stream', async () => {
    await engine.apply(
      plugin('work'),
      pipeline('dag', {
        steps: [
          { name: 'extract', plugin: 'work', podMetadata: fake(0, '1s') },
          { name: 'left', plugin: 'work', dependsOn: ['extract'], podMetadata: fake(0, '1s') },
          { name: 'right', plugin: 'work', dependsOn: ['extract'], podMetadata: fake(0, '2s') },
          { name: 'join', plugin: 'work', dependsOn: ['left', 'right'], podMetadata: fake() },
        ],
      }),
    );
    const p = await eventually(
      async () => {
        const p = await engine.get<WithStatus>('flexpipeline', 'dag');
        return p.status?.phase === 'Succeeded' && p;
      },
      60_000,
      'the run to succeed',
    );
    const steps = p.status!.lastRun!.steps!;
    expect(steps.map((s) => [s.name, s.phase])).to.deep.equal([
      ['extract', 'Succeeded'],
      ['left', 'Succeeded'],
      ['right', 'Succeeded'],
      ['join', 'Succeeded'],
    ]);
    const events = await engine.manager.store.readStream(pipelineStream(p.metadata.uid));
    const kinds = events.map((e) => `${e.type}${typeof e.data.step === 'string' ? `:${e.data.step}` : ''}`);
    expect(kinds[0]).to.equal('RunStarted');
    expect(kinds[kinds.length - 1]).to.equal('RunFinished');
    const at = (k: string): number => kinds.indexOf(k);
    expect(at('StepAttemptFinished:extract')).to.be.lessThan(at('StepAttemptScheduled:left'));
    expect(at('StepAttemptFinished:extract')).to.be.lessThan(at('StepAttemptScheduled:right'));
    expect(at('StepAttemptFinished:left')).to.be.lessThan(at('StepAttemptScheduled:join'));
    expect(at('StepAttemptFinished:right')).to.be.lessThan(at('StepAttemptScheduled:join'));
    for (const s of ['extract', 'left', 'right', 'join']) {
      expect(
        kinds.filter((k) => k === `StepAttemptScheduled:${s}`),
        s,
      ).to.have.length(1);
      expect(
        kinds.filter((k) => k === `StepAttemptFinished:${s}`),
        s,
      ).to.have.length(1);
      expect(
        kinds.filter((k) => k === `LogTailCaptured:${s}`),
        s,
      ).to.have.length(1);
    }
    // left and right overlapped: right started before left finished.
    const time = (type: string, step: string): number =>
      Date.parse(String(events.find((e) => e.type === type && e.data.step === step)!.data.at));
    expect(time('StepAttemptStarted', 'right')).to.be.lessThan(time('StepAttemptFinished', 'left'));
  });

  it('serves /healthz, /readyz and /metrics with controller-runtime names', async () => {
    const server = await startHttpServer({
      readiness: engine.manager,
      registry: engine.manager.registry,
      port: 0,
      host: '127.0.0.1',
    });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      expect((await fetch(`${base}/healthz`)).status).to.equal(200);
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).to.equal(200);
      expect(await ready.json()).to.deep.include({ ready: true });
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).to.match(
        /^controller_runtime_reconcile_total\{controller="flexpipeline",result="success"\} [1-9]/m,
      );
      for (const name of [
        'controller_runtime_reconcile_time_seconds_bucket',
        'controller_runtime_active_workers',
        'workqueue_depth',
        'workqueue_adds_total',
        'workqueue_queue_duration_seconds_bucket',
        'rest_client_requests_total',
        'flexcore_kube_api_requests_total',
        'flexcore_event_store_append_duration_seconds_bucket',
      ]) {
        expect(metrics, name).to.include(`${name}{`);
      }
      // The DAG run above: one manual run, four attempts of plugin "work", no retries.
      const ns = engine.namespace;
      expect(metrics).to.include(`flexcore_runs_started_total{namespace="${ns}",trigger="Generation"} 1`);
      expect(metrics).to.include(`flexcore_runs_finished_total{namespace="${ns}",result="Succeeded"} 1`);
      expect(metrics).to.include(
        `flexcore_step_attempts_finished_total{namespace="${ns}",plugin="work",result="Succeeded",reason="None"} 4`,
      );
      expect(metrics).to.include(
        `flexcore_step_attempt_duration_seconds_count{namespace="${ns}",plugin="work",result="Succeeded"} 4`,
      );
      expect(metrics).to.include(
        `flexcore_run_duration_seconds_count{namespace="${ns}",result="Succeeded"} 1`,
      );
      expect(metrics).to.not.include('flexcore_step_retries_total{');
      const lastSuccess = new RegExp(
        `^flexcore_pipeline_last_success_timestamp_seconds\\{namespace="${ns}",pipeline="dag"\\} (\\S+)$`,
        'm',
      ).exec(metrics);
      expect(Number(lastSuccess?.[1]) * 1000, 'last success, in Unix seconds').to.be.closeTo(
        Date.now(),
        60_000,
      );
      expect(metrics).to.include(
        `flexcore_pipeline_last_run_timestamp_seconds{namespace="${ns}",pipeline="dag"}`,
      );
      expect(metrics, 'no schedule, no next tick').to.not.include(
        'flexcore_pipeline_next_schedule_timestamp_seconds{',
      );
    } finally {
      await server.close();
    }
  });
});
