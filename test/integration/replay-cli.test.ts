/** `npx flexcore replay` as an operator runs it, against real PostgreSQL. */
import { expect } from 'chai';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deterministicEventId } from '../../controller/store/event-store.js';
import { freshStore, type TestStore } from './support/store.js';
import { runFlexcore } from './support/async.js';

const flexcore = (args: string[], env: NodeJS.ProcessEnv): ReturnType<typeof runFlexcore> =>
  runFlexcore(args, { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } });

describe('flexcore replay (CLI)', function () {
  this.timeout(120_000);
  let t: TestStore;
  before(async () => {
    t = await freshStore();
    const runId = 'orders-r1';
    await t.store.append(
      'pipeline-data-orders',
      'no_stream',
      [
        {
          id: deterministicEventId(runId, 'start'),
          type: 'RunStarted',
          data: { runId, pipeline: { namespace: 'data', name: 'orders' }, trigger: 'Manual' },
        },
        {
          id: deterministicEventId(runId, 'sched'),
          type: 'StepAttemptScheduled',
          data: { runId, step: 'a', attempt: 1, pod: 'p-a-1' },
        },
        { id: deterministicEventId(runId, 'done'), type: 'RunFinished', data: { runId, phase: 'Succeeded' } },
      ],
      { fence: 'leader', token: 1 },
    );
  });
  after(async () => {
    await t.close();
  });

  it('reports equal read models with exit 0', async () => {
    const r = await flexcore(['replay'], { DATABASE_URL: t.url });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^replayed 3 events into flexcore_replay_\d+$/m);
    expect(r.stdout).to.match(/^runs\s+1\s+1\s+0$/m);
    expect(r.stdout).to.include('the live read models equal the replayed ones');
  });

  it('exits 1 when a live read model drifted, and --swap repairs it', async () => {
    await t.pool.query(`UPDATE flexcore_read.runs SET phase = 'Failed'`);
    const drift = await flexcore(['replay'], { DATABASE_URL: t.url });
    expect(drift.code).to.equal(1);
    expect(drift.stdout).to.match(/^runs\s+1\s+1\s+2$/m);
    const swap = await flexcore(['replay', '--swap'], { DATABASE_URL: t.url });
    expect(swap.code, swap.stderr).to.equal(0);
    const { rows } = await t.pool.query<{ phase: string }>('SELECT phase FROM flexcore_read.runs');
    expect(rows).to.deep.equal([{ phase: 'Succeeded' }]);
  });

  it('says in one line when the database cannot be reached or is misconfigured', async () => {
    const down = await flexcore(['replay'], { DATABASE_URL: 'postgres://x:y@127.0.0.1:9/none' });
    expect(down.code).to.equal(69);
    expect(down.stderr).to.match(/^flexcore replay: event store unavailable: .*ECONNREFUSED/m);
    expect(down.stderr).to.not.match(/\n\s+at /);
    const bad = await flexcore(['replay'], { DATABASE_URL: t.url, DATABASE_POOL_SIZE: 'lots' });
    expect(bad.code).to.equal(69);
    expect(bad.stderr).to.equal(
      'flexcore replay: DATABASE_POOL_SIZE must be an integer from 1 to 1000, got "lots"\n',
    );
    const usage = await flexcore(['replay', '--now'], {});
    expect(usage.code).to.equal(2);
  });

  it('uses the embedded store under the state directory when DATABASE_URL is unset', async () => {
    const state = await mkdtemp(join(tmpdir(), 'fc-state-'));
    await chmod(state, 0o755); // as root, the server runs as user postgres, which must enter it
    try {
      const r = await flexcore(['replay'], { XDG_STATE_HOME: state });
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.include(`using the embedded store in ${join(state, 'flexcore', 'postgres')}`);
      expect(r.stdout).to.match(/^replayed 0 events/m);
    } finally {
      await rm(state, { recursive: true, force: true });
    }
  });
});
