import { expect } from 'chai';
import type { FlexPipelineStatus, StepStatus } from '../../api/v1alpha1/index.js';
import { pipelineStream } from '../../controller/pipeline/naming.js';
import { eventually, finishPod, runningPod, startEngine, type Engine } from './support/engine.js';
import { KWOK_ANNOTATIONS } from '../../hack/plane/control-plane.js';
import { fake, pipeline, plugin } from './support/manifests.js';

type Pipeline = { metadata: { uid: string; generation: number }; status?: FlexPipelineStatus };

describe('engine: failures, retries, timeouts, cancel', function () {
  this.timeout(120_000);
  let engine: Engine;
  before(async () => {
    engine = await startEngine({ prefix: 'fail', startGraceMs: 4000 });
    await engine.apply(plugin('work'));
  });
  after(async () => engine?.stop());

  const finished = (name: string, timeoutMs = 60_000): Promise<Pipeline> =>
    eventually(
      async () => {
        const p = await engine.get<Pipeline>('flexpipeline', name);
        return p.status?.lastRun && !p.status.currentRun && p;
      },
      timeoutMs,
      `${name} to finish`,
    );
  const step = (p: Pipeline, name: string): StepStatus =>
    p.status!.lastRun!.steps!.find((s) => s.name === name)!;
  const events = async (p: Pipeline): Promise<{ type: string; data: Record<string, unknown> }[]> =>
    engine.manager.store.readStream(pipelineStream(p.metadata.uid));

  it('fails an attempt whose image cannot be pulled once the start grace passes, saying why', async () => {
    await engine.apply(
      pipeline('no-image', {
        steps: [
          {
            name: 'pull',
            plugin: 'work',
            podMetadata: { annotations: { [KWOK_ANNOTATIONS.waitingReason]: 'ErrImageNeverPull' } },
          },
          { name: 'after', plugin: 'work', dependsOn: ['pull'], podMetadata: fake() },
        ],
      }),
    );
    // Within the grace the step says why it does not start.
    const waiting = await eventually(async () => {
      const p = await engine.get<Pipeline>('flexpipeline', 'no-image');
      const s = p.status?.currentRun?.steps?.find((x) => x.name === 'pull');
      return s?.reason === 'ErrImageNeverPull' && s;
    });
    expect(waiting.phase).to.equal('Scheduled');
    expect(waiting.message).to.match(/plugin: Container image "example.com\/work:1" is not present/);
    const p = await finished('no-image');
    expect(p.status!.lastRun!.phase).to.equal('Failed');
    expect(step(p, 'pull')).to.include({ phase: 'Failed', reason: 'ErrImageNeverPull' });
    expect(step(p, 'pull').message).to.match(/is not present with pull policy of Never/);
    expect(step(p, 'after').phase).to.equal('Skipped');
    const finishedEvent = (await events(p)).find((e) => e.type === 'StepAttemptFinished');
    expect(finishedEvent?.data).to.include({ phase: 'Failed', reason: 'ErrImageNeverPull' });
    await eventually(
      async () => !(await engine.kubectl(['get', 'pods', '-o', 'name'])).includes('no-image-g1-pull-1'),
      30_000,
      'the stuck Pod to be deleted',
    );
  });

  it('retries a retryable exit code after a backoff, then succeeds', async () => {
    await engine.apply(
      pipeline('retry', {
        steps: [
          {
            name: 'flaky',
            plugin: 'work',
            retries: { limit: 2, retryableExitCodes: [3], backoff: { initialSeconds: 2, maxSeconds: 10 } },
            podMetadata: fake(0, '1h'),
          },
        ],
      }),
    );
    await runningPod(engine, 'retry-g1-flaky-1');
    await finishPod(engine, 'retry-g1-flaky-1', 3);
    const retrying = await eventually(async () => {
      const p = await engine.get<Pipeline>('flexpipeline', 'retry');
      const s = p.status?.currentRun?.steps?.[0];
      return s?.phase === 'Retrying' && s;
    });
    expect(retrying.exitCode).to.equal(3);
    expect(retrying.nextAttemptTime).to.be.a('string');
    await runningPod(engine, 'retry-g1-flaky-2');
    await finishPod(engine, 'retry-g1-flaky-2', 0);
    const p = await finished('retry');
    expect(p.status!.lastRun!.phase).to.equal('Succeeded');
    expect(step(p, 'flaky')).to.include({ phase: 'Succeeded', attempt: 2 });
    const evs = await events(p);
    const failedAt = Date.parse(
      String(evs.find((e) => e.type === 'StepAttemptFinished' && e.data.attempt === 1)!.data.at),
    );
    const retriedAt = Date.parse(
      String(evs.find((e) => e.type === 'StepAttemptScheduled' && e.data.attempt === 2)!.data.at),
    );
    // 2 s backoff plus up to 20% jitter: visible in the recorded timestamps.
    expect(retriedAt - failedAt).to.be.within(2000, 2400 + 1000);
  });

  it('fails the run when retries are exhausted and skips the steps downstream', async () => {
    await engine.apply(
      pipeline('exhaust', {
        steps: [
          {
            name: 'bad',
            plugin: 'work',
            retries: { limit: 1, backoff: { initialSeconds: 1 } },
            podMetadata: fake(4),
          },
          { name: 'after', plugin: 'work', dependsOn: ['bad'], podMetadata: fake() },
          { name: 'beside', plugin: 'work', podMetadata: fake() },
        ],
      }),
    );
    const p = await finished('exhaust');
    expect(p.status!.phase).to.equal('Failed');
    expect(step(p, 'bad')).to.include({ phase: 'Failed', attempt: 2, exitCode: 4 });
    expect(step(p, 'after')).to.include({ phase: 'Skipped', reason: 'UpstreamFailed' });
    expect(step(p, 'beside')).to.include({ phase: 'Succeeded' });
    const runs = await engine.db.pool.query(`SELECT phase, reason FROM flexcore_read.runs`);
    expect(runs.rows).to.deep.include({ phase: 'Failed', reason: 'StepFailed' });
  });

  it('fails at once on an exit code that is not retryable', async () => {
    await engine.apply(
      pipeline('fatal', {
        steps: [
          {
            name: 'bad',
            plugin: 'work',
            retries: { limit: 3, retryableExitCodes: [75] },
            podMetadata: fake(2),
          },
        ],
      }),
    );
    const p = await finished('fatal');
    expect(step(p, 'bad')).to.include({ phase: 'Failed', attempt: 1, exitCode: 2 });
  });

  it('times a step out, deletes its Pod and keeps its log tail', async () => {
    await engine.apply(
      pipeline('slow', {
        steps: [{ name: 'sleepy', plugin: 'work', timeoutSeconds: 2, podMetadata: fake(0, '1h') }],
      }),
    );
    const p = await finished('slow');
    expect(step(p, 'sleepy')).to.include({ phase: 'TimedOut', reason: 'Timeout' });
    await eventually(
      async () =>
        (await engine.kubectl(['get', 'pods', '-o', 'name'])).includes('slow-g1-sleepy-1') === false,
    );
    const tails = await engine.db.pool.query(
      `SELECT step FROM flexcore_read.log_tails WHERE step = 'sleepy'`,
    );
    expect(tails.rowCount).to.equal(1);
  });

  it('cancels a running run declaratively: Pods deleted, the rest cancelled', async () => {
    await engine.apply(
      pipeline('cancel', {
        steps: [
          { name: 'long', plugin: 'work', podMetadata: fake(0, '1h') },
          { name: 'next', plugin: 'work', dependsOn: ['long'] },
        ],
      }),
    );
    await runningPod(engine, 'cancel-g1-long-1');
    const running = await engine.get<Pipeline>('flexpipeline', 'cancel');
    const runId = running.status!.currentRun!.id;
    await engine.kubectl(['annotate', 'flexpipeline', 'cancel', `flexcore.io/cancel-run=${runId}`]);
    const p = await finished('cancel');
    expect(p.status!.phase).to.equal('Cancelled');
    expect(step(p, 'long')).to.include({ phase: 'Cancelled' });
    expect(step(p, 'next')).to.include({ phase: 'Cancelled' });
    await eventually(
      async () => !(await engine.kubectl(['get', 'pods', '-o', 'name'])).includes('cancel-g1-long-1'),
    );
  });

  it('stops a run at its activeDeadlineSeconds', async () => {
    await engine.apply(
      pipeline('deadline', {
        activeDeadlineSeconds: 2,
        steps: [{ name: 'long', plugin: 'work', podMetadata: fake(0, '1h') }],
      }),
    );
    const p = await finished('deadline');
    expect(p.status!.lastRun!.phase).to.equal('Failed');
    expect(step(p, 'long')).to.include({ phase: 'Cancelled', reason: 'DeadlineExceeded' });
  });

  it('reports an invalid pipeline in a condition and creates no Pods', async () => {
    await engine.apply(
      pipeline('cyclic', {
        steps: [
          { name: 'a', plugin: 'work', dependsOn: ['b'] },
          { name: 'b', plugin: 'work', dependsOn: ['a'] },
        ],
      }),
      pipeline('orphan', { steps: [{ name: 'a', plugin: 'nowhere' }] }),
    );
    for (const [name, reason] of [
      ['cyclic', 'DependencyCycle'],
      ['orphan', 'PluginNotFound'],
    ] as const) {
      const p = await eventually(async () => {
        const p = await engine.get<Pipeline>('flexpipeline', name);
        return p.status?.phase === 'Invalid' && p;
      });
      const ready = p.status!.conditions!.find((c) => c.type === 'Ready')!;
      expect(ready).to.include({ status: 'False', reason, observedGeneration: p.metadata.generation });
      expect(ready.message).to.be.a('string').and.not.empty;
    }
    const pods = await engine.kubectl(['get', 'pods', '-o', 'name']);
    expect(pods).to.not.match(/cyclic|orphan/);
  });

  it('stops the running Pods of a deleted pipeline, records it, then lets the pipeline go', async () => {
    await engine.apply(
      pipeline('doomed', { steps: [{ name: 'long', plugin: 'work', podMetadata: fake(0, '1h') }] }),
    );
    await runningPod(engine, 'doomed-g1-long-1');
    const p = await engine.get<Pipeline>('flexpipeline', 'doomed');
    expect((p as { metadata: { finalizers?: string[] } }).metadata.finalizers).to.include(
      'flexcore.io/stop-runs',
    );
    await engine.kubectl(['delete', 'flexpipeline', 'doomed', '--wait=false']);
    await eventually(
      async () => !(await engine.kubectl(['get', 'flexpipelines', '-o', 'name'])).includes('doomed'),
      30_000,
      'the pipeline to go',
    );
    const types = (await events(p)).map(
      (e) => `${e.type}:${typeof e.data.phase === 'string' ? e.data.phase : ''}`,
    );
    expect(types).to.include.members([
      'StepAttemptFinished:Cancelled',
      'RunFinished:Cancelled',
      'PipelineDeleted:',
    ]);
    await eventually(
      async () => !(await engine.kubectl(['get', 'pods', '-o', 'name'])).includes('doomed-g1-long-1'),
    );
  });
});
