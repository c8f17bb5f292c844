import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { ApiQueries } from '../../controller/store/api-queries.js';
import { replayProjections } from '../../controller/store/replay.js';
import { seedRuns, type SeedRun } from './support/api.js';
import { freshStore, type TestStore } from './support/store.js';

/** The daily run summary: filled as runs finish, backfilled by its migration, rebuilt equal by replay. */
describe('run summary (the status API /summary read model)', function () {
  this.timeout(120_000);
  let db: TestStore;
  let queries: ApiQueries;
  const day1 = Date.parse('2026-11-02T10:00:00Z');
  const day2 = Date.parse('2026-11-03T10:00:00Z');

  /** `count` runs of `pipeline` on `day`, each `seconds` long, with result `phase`. */
  const runs = (
    pipeline: string,
    day: number,
    count: number,
    seconds: number,
    phase: 'Succeeded' | 'Failed',
  ): SeedRun[] =>
    Array.from({ length: count }, (_, i) => ({
      runId: `${pipeline}-${day}-${seconds}-${phase}-${i}`.toLowerCase(),
      namespace: pipeline === 'other' ? 'team-b' : 'team-a',
      pipeline,
      trigger: 'Schedule',
      startedAt: new Date(day + i * 1000),
      finished: { phase, at: new Date(day + i * 1000 + seconds * 1000) },
    }));

  before(async () => {
    db = await freshStore(4);
    queries = new ApiQueries(db.pool);
    await seedRuns(db.store, [
      ...runs('orders', day1, 90, 20, 'Succeeded'),
      ...runs('orders', day1, 10, 700, 'Failed'),
      ...runs('orders', day2, 5, 3, 'Succeeded'),
      ...runs('users', day2, 4, 0.5, 'Succeeded'),
      ...runs('other', day2, 7, 45, 'Succeeded'),
      // still running: not counted
      {
        runId: 'orders-running',
        namespace: 'team-a',
        pipeline: 'orders',
        trigger: 'Manual',
        startedAt: new Date(day2),
      },
    ]);
  });
  after(async () => db?.close());

  it('counts finished runs per day and result, with their durations in buckets', async () => {
    const groups = await queries.summary('2026-11-01', 'day', 'team-a');
    expect(groups.map((g) => [g.key, g.runs])).to.deep.equal([
      ['2026-11-02', { Failed: 10, Succeeded: 90 }],
      ['2026-11-03', { Succeeded: 9 }],
    ]);
    expect(groups[0]!.durationMsSum).to.equal(90 * 20_000 + 10 * 700_000);
    expect(groups[0]!.buckets[4], '90 runs in [10,30)').to.equal(90);
    expect(groups[0]!.buckets[9], '10 runs in [600,1200)').to.equal(10);
  });

  it('groups by pipeline across namespaces, and starts at the given day', async () => {
    const groups = await queries.summary('2026-11-03', 'pipeline');
    expect(groups.map((g) => [g.key, g.runs])).to.deep.equal([
      ['team-a/orders', { Succeeded: 5 }],
      ['team-a/users', { Succeeded: 4 }],
      ['team-b/other', { Succeeded: 7 }],
    ]);
  });

  it('keeps the first result of a run, even when a second RunFinished arrives for it', async () => {
    await db.store.append(
      'seed-late',
      'any',
      [
        {
          id: '7d1a0c7e-0000-4000-8000-000000000001',
          type: 'RunFinished',
          data: { runId: 'orders-running', phase: 'Failed', at: new Date(day2 + 5000).toISOString() },
        },
      ],
      { fence: 'api-test-seed', token: 1 },
    );
    await db.store.append(
      'seed-late',
      'any',
      [
        {
          id: '7d1a0c7e-0000-4000-8000-000000000002',
          type: 'RunFinished',
          data: { runId: 'orders-running', phase: 'Cancelled', at: new Date(day2 + 6000).toISOString() },
        },
      ],
      { fence: 'api-test-seed', token: 1 },
    );
    const [g] = await queries.summary('2026-11-03', 'pipeline', 'team-a');
    expect(g!.runs).to.deep.equal({ Succeeded: 5, Failed: 1 });
  });

  it('is rebuilt row for row by replay, and equal to what the migration backfills', async () => {
    const report = await replayProjections(db.pool);
    const summary = report.tables.find((t) => t.table === 'run_summary');
    expect(summary, JSON.stringify(report.tables)).to.deep.include({ differences: 0 });
    expect(summary!.liveRows).to.be.greaterThan(0);
    const migration = readFileSync(
      new URL('../../controller/store/migrations/006_run_summary.sql', import.meta.url),
      'utf8',
    );
    const backfill = migration.slice(migration.indexOf('WITH finished AS'));
    const live = await db.pool.query('SELECT * FROM flexcore_read.run_summary ORDER BY 1, 2, 3, 4');
    await db.pool.query('DELETE FROM flexcore_read.run_summary');
    await db.pool.query(backfill);
    const rebuilt = await db.pool.query('SELECT * FROM flexcore_read.run_summary ORDER BY 1, 2, 3, 4');
    expect(rebuilt.rows).to.deep.equal(live.rows);
  });
});
