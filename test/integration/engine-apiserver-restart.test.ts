import { expect } from 'chai';
import type { FlexPipelineStatus } from '../../api/v1alpha1/index.js';
import { eventually, startEngine, type Engine } from './support/engine.js';
import { fake, pipeline, plugin } from './support/manifests.js';

type Pipeline = { status?: FlexPipelineStatus };

describe('engine: kube-apiserver restarted mid-run', function () {
  this.timeout(180_000);
  let engine: Engine;
  before(async () => {
    engine = await startEngine({ prefix: 'apirestart' });
    await engine.apply(plugin('work'));
  });
  after(async () => engine?.stop());

  const phase = async (name: string): Promise<string | undefined> =>
    (await engine.get<Pipeline>('flexpipeline', name)).status?.phase;

  it('recovers its informers: the running pipeline finishes and a new one runs', async () => {
    await engine.apply(
      pipeline('through', {
        steps: [
          { name: 'a', plugin: 'work', podMetadata: fake(0, '4s') },
          { name: 'b', plugin: 'work', dependsOn: ['a'], podMetadata: fake(0, '1s') },
        ],
      }),
    );
    await eventually(async () => (await phase('through')) === 'Running');
    await engine.plane.restart('kube-apiserver', { downMs: 3000 });
    await eventually(
      async () => (await phase('through')) === 'Succeeded',
      90_000,
      'the running pipeline to finish',
    );
    await engine.apply(pipeline('after', { steps: [{ name: 'a', plugin: 'work', podMetadata: fake() }] }));
    await eventually(
      async () => (await phase('after')) === 'Succeeded',
      100_000, // kube-scheduler and kwok re-watch with client-go's backoff (up to a minute)
      'a pipeline created after the restart',
    );
    expect(engine.manager.readiness().ready).to.equal(true);
  });
});
