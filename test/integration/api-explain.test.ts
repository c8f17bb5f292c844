import { expect } from 'chai';
import { sql } from '../../controller/store/sql.js';
import { freshStore, type TestStore } from './support/store.js';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

const shapeOf = (plan: PlanNode[]): string =>
  plan.map((n) => `${n['Node Type']}${n['Index Name'] ? `(${n['Index Name']})` : ''}`).join(' > ');

/**
 * The status API's list queries read pages through indexes: never a sequential scan of the
 * history, and where a filter matches many runs the index order makes the page (no sort).
 */
describe('status API queries: EXPLAIN uses an index for every list', function () {
  this.timeout(120_000);
  let db: TestStore;
  const usec = (d: string): string => String(Date.parse(d) * 1000);

  before(async () => {
    db = await freshStore(2);
    // 100,000 runs of 100 pipelines in 10 namespaces, and 100,000 events; rows only, for the planner.
    await db.pool.query(`
      INSERT INTO flexcore_read.runs (run_id, pipeline_namespace, pipeline_name, trigger, phase, started_at, finished_at, last_position)
      SELECT 'r' || i, 'ns-' || (i % 10), 'p-' || (i % 100), (ARRAY['Generation','Manual','Schedule'])[1 + i % 3],
             CASE WHEN i % 50 = 0 THEN 'Failed' WHEN i % 997 = 0 THEN 'Running' ELSE 'Succeeded' END,
             timestamptz '2026-01-01' + i * interval '1 minute', timestamptz '2026-01-01' + i * interval '1 minute' + interval '30 s', i
        FROM generate_series(1, 100000) i`);
    await db.pool.query(`
      INSERT INTO flexcore.events (stream_id, stream_version, event_id, type, data, fence, fencing_token)
      SELECT 'pipeline-' || (i % 100), i / 100, gen_random_uuid(), 'StepAttemptStarted',
             jsonb_build_object('runId', 'r' || (i / 2), 'step', 's', 'attempt', 1), 'f', 1
        FROM generate_series(1, 100000) i`);
    await db.pool.query('ANALYZE flexcore_read.runs');
    await db.pool.query('ANALYZE flexcore.events');
  });
  after(async () => db?.close());

  const explain = async (file: string, params: unknown[]): Promise<PlanNode[]> => {
    const { rows } = await db.pool.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (FORMAT JSON) ${sql(file)}`,
      params,
    );
    return nodes(rows[0]!['QUERY PLAN'][0].Plan);
  };

  /** The parameters of runs-*.sql, named. */
  const runParams = (o: {
    namespace?: string;
    pipeline?: string;
    phases?: string[];
    triggers?: string[];
    after?: string;
    before?: string;
    pipelines?: [string, string][];
    key?: [string, string];
  }): unknown[] => [
    o.namespace ?? null,
    o.pipeline ?? null,
    o.phases ?? null,
    o.triggers ?? null,
    o.after ?? null,
    o.before ?? null,
    o.pipelines?.map((p) => p[0]) ?? null,
    o.pipelines?.map((p) => p[1]) ?? null,
    o.key?.[0] ?? null,
    o.key?.[1] ?? null,
    51,
  ];
  const deep = (d: string): [string, string] => [usec(d), 'r5'];

  // name, statement, parameters, the index that must serve it, whether its order makes the page
  const cases: [string, string, unknown[], string, boolean][] = [
    ['all runs, first page', 'runs-newest-first', runParams({}), 'runs_started_idx', true],
    [
      'all runs, deep page',
      'runs-newest-first',
      runParams({ key: deep('2026-01-20T00:00:00Z') }),
      'runs_started_idx',
      true,
    ],
    [
      'oldest first, deep page',
      'runs-oldest-first',
      runParams({ key: deep('2026-02-20T00:00:00Z') }),
      'runs_started_idx',
      true,
    ],
    ['a namespace', 'runs-newest-first', runParams({ namespace: 'ns-3' }), '', true],
    [
      'a namespace, deep page',
      'runs-newest-first',
      runParams({ namespace: 'ns-3', key: deep('2026-02-20T00:00:00Z') }),
      '',
      true,
    ],
    [
      'a pipeline, deep page',
      'runs-newest-first',
      runParams({ namespace: 'ns-3', pipeline: 'p-33', key: deep('2026-02-20T00:00:00Z') }),
      'runs_pipeline_idx',
      false,
    ],
    ['failed runs', 'runs-newest-first', runParams({ phases: ['Failed'] }), '', true],
    [
      'failed scheduled runs of a namespace in a window',
      'runs-newest-first',
      runParams({
        namespace: 'ns-3',
        phases: ['Failed'],
        triggers: ['Schedule'],
        after: '2026-01-10T00:00:00Z',
        before: '2026-02-10T00:00:00Z',
      }),
      '',
      false,
    ],
    [
      'a label selector (three pipelines)',
      'runs-newest-first',
      runParams({
        pipelines: [
          ['ns-1', 'p-1'],
          ['ns-2', 'p-2'],
          ['ns-3', 'p-3'],
        ],
      }),
      '',
      false,
    ],
  ];
  for (const [name, file, params, index, ordered] of cases) {
    it(`${name}: read through ${index || 'an index'}${ordered ? ', in index order' : ''}`, async () => {
      const plan = await explain(`api/${file}`, params);
      const shape = shapeOf(plan);
      expect(
        plan.some((n) => n['Node Type'] === 'Seq Scan'),
        shape,
      ).to.equal(false);
      const indexes = plan.map((n) => n['Index Name']).filter((i): i is string => !!i);
      expect(
        indexes.some((i) => i.startsWith('runs_')),
        shape,
      ).to.equal(true);
      if (index) expect(indexes, shape).to.include(index);
      if (ordered)
        expect(
          plan.map((n) => n['Node Type']),
          shape,
        ).to.not.include('Sort');
    });
  }

  it('the feed reads events through the (tx_id, position) index, in its order', async () => {
    const plan = await explain('api/feed-window', ['0', 0, null, null, 'ns-1', null, 100]);
    const shape = shapeOf(plan);
    expect(
      plan.map((n) => n['Index Name']),
      shape,
    ).to.include('events_feed_idx');
    expect(
      plan.map((n) => n['Node Type']),
      shape,
    ).to.not.include('Sort');
  });
});
