import { expect } from 'chai';
import type { FlexPipelineStatus } from '../../api/v1alpha1/index.js';
import { pipelineStream } from '../../controller/pipeline/naming.js';
import { startHttpServer, type HttpServer } from '../../controller/server/http-server.js';
import { eventually, startEngine, type Engine } from './support/engine.js';
import { fake, pipeline, plugin } from './support/manifests.js';
import { sharedPostgres } from './support/store.js';

type Pipeline = { metadata: { uid: string }; status?: FlexPipelineStatus };

describe('engine: PostgreSQL stopped for 30 s mid-run', function () {
  this.timeout(180_000);
  let engine: Engine;
  let server: HttpServer;
  before(async () => {
    engine = await startEngine({ prefix: 'outage' });
    server = await startHttpServer({
      readiness: engine.manager,
      registry: engine.manager.registry,
      port: 0,
      host: '127.0.0.1',
    });
    await engine.apply(plugin('work'));
  });
  after(async () => {
    await server?.close();
    await engine?.stop();
  });

  const readyz = async (): Promise<number> => (await fetch(`http://127.0.0.1:${server.port}/readyz`)).status;
  const pods = async (): Promise<string> => engine.kubectl(['get', 'pods', '-o', 'name']);
  const metrics = async (): Promise<string> =>
    (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
  const deadlineOf = (text: string): number | undefined => {
    const ns = engine.namespace;
    const line = new RegExp(
      `^flexcore_pipeline_run_deadline_timestamp_seconds\\{namespace="${ns}",pipeline="steady"\\} (\\S+)$`,
      'm',
    ).exec(text);
    return line ? Number(line[1]) * 1000 : undefined;
  };

  it('pauses the run, drops readiness, and finishes with a complete stream once it is back', async () => {
    expect(await readyz()).to.equal(200);
    await engine.apply(
      pipeline('steady', {
        steps: [
          { name: 'a', plugin: 'work', podMetadata: fake(0, '3s') },
          { name: 'b', plugin: 'work', dependsOn: ['a'], podMetadata: fake(0, '1s') },
          { name: 'c', plugin: 'work', dependsOn: ['b'], podMetadata: fake() },
        ],
      }),
    );
    await eventually(async () => (await pods()).includes('steady-g1-a-1'), 30_000, 'the first Pod');
    expect(await metrics()).to.match(/^flexcore_event_store_up 1$/m);
    // Step a runs with the default one-hour timeout: the controller must end it within the hour.
    // (The gauge is set right after the reconcile that created the Pod.)
    const deadline = await eventually(async () => deadlineOf(await metrics()), 10_000, 'the run deadline');
    expect(deadline, 'the run deadline while a runs').to.be.closeTo(Date.now() + 3600_000, 60_000);
    const pg = await sharedPostgres();
    await pg.pause();
    const t0 = Date.now();
    try {
      await eventually(async () => (await readyz()) === 503, 15_000, 'readiness to drop');
      expect(engine.manager.readiness().checks.eventStore).to.equal(false);
      expect(await metrics()).to.match(/^flexcore_event_store_up 0$/m);
      // Step a's Pod ends meanwhile; without the store the next transition waits.
      await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - t0))));
      expect(await pods()).to.not.include('steady-g1-b-1');
      const a = JSON.parse(await engine.kubectl(['get', 'pod', 'steady-g1-a-1', '-o', 'json'])) as {
        status: { phase: string };
      };
      expect(a.status.phase).to.equal('Succeeded');
    } finally {
      await pg.resume();
    }
    const p = await eventually(
      async () => {
        const p = await engine.get<Pipeline>('flexpipeline', 'steady');
        return p.status?.phase === 'Succeeded' && p;
      },
      60_000,
      'the run to finish',
    );
    expect(await readyz()).to.equal(200);
    expect(await metrics()).to.match(/^flexcore_event_store_up 1$/m);
    // Set right after the status write that showed Succeeded.
    await eventually(async () => deadlineOf(await metrics()) === undefined, 10_000, 'the deadline to go');
    const events = await engine.manager.store.readStream(pipelineStream(p.metadata.uid));
    const kinds = events.map((e) => `${e.type}:${typeof e.data.step === 'string' ? e.data.step : ''}`);
    expect(kinds.filter((k) => k.startsWith('StepAttemptScheduled'))).to.deep.equal([
      'StepAttemptScheduled:a',
      'StepAttemptScheduled:b',
      'StepAttemptScheduled:c',
    ]);
    expect(kinds.filter((k) => k.startsWith('StepAttemptFinished'))).to.have.length(3);
    expect(kinds.filter((k) => k === 'RunFinished:')).to.have.length(1);
    expect(new Set(events.map((e) => e.id)).size).to.equal(events.length);
  });
});
