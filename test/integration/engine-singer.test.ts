import { expect } from 'chai';
import { eventually, finishPod, runningPod, startEngine, type Engine } from './support/engine.js';
import { fake, pipeline, plugin } from './support/manifests.js';
import { pipelineStream } from '../../controller/pipeline/naming.js';

describe('engine: Singer state between runs', function () {
  this.timeout(180_000);
  let engine: Engine;
  before(async () => {
    engine = await startEngine({ prefix: 'singer' });
    await engine.apply(
      plugin('tap-orders', { type: 'tap', command: ['tap-orders'], capabilities: ['state'] }),
      plugin('target-lake', { type: 'target', command: ['target-lake'] }),
      pipeline('sync', {
        steps: [
          { name: 'el', plugin: 'tap-orders', target: { plugin: 'target-lake' }, podMetadata: fake(0, '1h') },
        ],
      }),
    );
  });
  after(async () => engine?.stop());

  /** The files of an attempt's config Secret (read while its Pod runs). */
  const attemptFiles = async (pod: string): Promise<Record<string, string>> => {
    const s = JSON.parse(await engine.kubectl(['get', 'secret', pod, '-o', 'json'])) as {
      data: Record<string, string>;
    };
    return Object.fromEntries(
      Object.entries(s.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
    );
  };
  const runPod = async (request: string): Promise<string> => {
    await engine.kubectl([
      'annotate',
      '--overwrite',
      'flexpipeline',
      'sync',
      `flexcore.io/run-requested=${request}`,
    ]);
    return eventually(async () => {
      const p = JSON.parse(await engine.kubectl(['get', 'flexpipeline', 'sync', '-o', 'json'])) as {
        status?: { lastRunRequest?: string; currentRun?: { steps?: { pod?: string }[] } };
      };
      return p.status?.lastRunRequest === request && p.status.currentRun?.steps?.[0]?.pod;
    });
  };
  const idle = (): Promise<boolean> =>
    eventually(async () => {
      const p = JSON.parse(await engine.kubectl(['get', 'flexpipeline', 'sync', '-o', 'json'])) as {
        status?: { currentRun?: unknown; lastRun?: unknown };
      };
      return !!p.status?.lastRun && !p.status.currentRun;
    });
  const finishWithOutput = async (pod: string, targetOutput: string, exitCode: number): Promise<void> => {
    await runningPod(engine, pod);
    await engine.plane.setPodLogs(engine.namespace, pod, 'target', targetOutput);
    await finishPod(engine, pod, exitCode);
    await idle();
  };

  it("hands run 1's state to run 2's tap, keeps partial state of a failed run, and honours full refresh", async () => {
    const first = 'sync-g1-el-1';
    await runningPod(engine, first);
    expect(await attemptFiles(first)).to.not.have.property('state.json'); // nothing stored yet
    await finishWithOutput(first, 'INFO starting\n{"bookmarks":{"orders":{"id":41}}}\nINFO done\n', 0);

    const second = await runPod('two');
    await runningPod(engine, second);
    expect(JSON.parse((await attemptFiles(second))['state.json']!)).to.deep.equal({
      bookmarks: { orders: { id: 41 } },
    });
    // Run 2 fails after its target committed up to id 57: that partial state is kept.
    await finishWithOutput(second, '{"type":"STATE","value":{"bookmarks":{"orders":{"id":57}}}}\n', 1);

    const third = await runPod('three');
    await runningPod(engine, third);
    expect(JSON.parse((await attemptFiles(third))['state.json']!)).to.deep.equal({
      bookmarks: { orders: { id: 57 } },
    });
    await finishWithOutput(third, '{"bookmarks":{"orders":{"id":60}}}\n', 0);

    await engine.kubectl(['annotate', 'flexpipeline', 'sync', 'flexcore.io/full-refresh=el']);
    const fourth = await runPod('four');
    await runningPod(engine, fourth);
    expect(await attemptFiles(fourth)).to.not.have.property('state.json');

    const { rows } = await engine.db.pool.query<{ state: unknown; partial_state: unknown }>(
      `SELECT state, partial_state FROM flexcore_read.singer_state WHERE state_id = $1`,
      [`${engine.namespace}/sync/el`],
    );
    expect(rows).to.deep.equal([{ state: { bookmarks: { orders: { id: 60 } } }, partial_state: null }]);
  });

  it('counts the records of a tap log longer than the tail it keeps, reading the whole log line by line', async () => {
    // The run the test above leaves running ends first: a manual run waits for it.
    const p0 = await engine.get<{ status?: { currentRun?: { steps?: { pod?: string }[] } } }>(
      'flexpipeline',
      'sync',
    );
    const running = p0.status?.currentRun?.steps?.[0]?.pod;
    if (running) await finishWithOutput(running, '{"bookmarks":{}}\n', 0);
    const pod = await runPod('counted');
    await runningPod(engine, pod);
    // 6000 lines, a METRIC line every 10th: far past the 2000-line tail read when the step ends.
    const metric = (stream: string, value: number): string =>
      `INFO | singer_sdk.metrics | METRIC: {"type": "counter", "metric": "record_count", "value": ${value}, "tags": {"stream": "${stream}"}}`;
    const tap = Array.from({ length: 6000 }, (_, i) =>
      i % 10 === 0 ? metric(i % 20 === 0 ? 'orders' : 'customers', 7) : `INFO synced row batch ${i}`,
    ).join('\n');
    await engine.plane.setPodLogs(engine.namespace, pod, 'tap', `${tap}\n`);
    await finishWithOutput(
      pod,
      `${metric('orders', 2100)}\n${metric('customers', 2100)}\n{"bookmarks": {}}\n`,
      0,
    );
    const p = await engine.get<{ metadata: { uid: string } }>('flexpipeline', 'sync');
    const counted = (await engine.manager.store.readStream(pipelineStream(p.metadata.uid)))
      .filter((e) => e.type === 'SingerRecordsCounted')
      .slice(-2)
      .map((e) => [e.data.container, e.data.streams, e.data.truncated]);
    expect(counted).to.deep.equal([
      ['tap', { orders: 300 * 7, customers: 300 * 7 }, false],
      ['target', { orders: 2100, customers: 2100 }, false],
    ]);
  });
});
