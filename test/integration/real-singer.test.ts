/**
 * A Singer pair really runs: MeltanoLabs tap-postgres | target-jsonl in one Pod on the real
 * node, joined by the FIFO, reading a seeded table in a real PostgreSQL, writing JSON Lines to
 * a PersistentVolumeClaim. The catalog (tap-postgres 0.10.0's own discovery output with the
 * stream selected INCREMENTAL on id) comes from a ConfigMap volume. The target's STATE comes
 * from its real output and reaches the next run's tap, which then reads only newer rows.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { eventually, startEngine, type Engine } from './support/engine.js';
import { catalogPlugin } from '../../hack/demo/catalog.js';
import { pipeline } from './support/manifests.js';
import {
  applyTapPostgres,
  finishedRun,
  hostPathClaim,
  jsonlRecordsIn,
  podReachablePostgres,
  realNodeOf,
  seedOrders,
  type PodReachablePostgres,
  type RunStatus,
} from './support/real.js';

interface PodJson {
  spec: { containers: { name: string; command?: string[] }[] };
  status: { phase: string };
}

const ROWS = 500;

describe('real node: tap-postgres | target-jsonl through the FIFO', function () {
  this.timeout(300_000);
  let engine: Engine;
  let source: PodReachablePostgres;
  let outDir: string;

  before(async () => {
    engine = await startEngine({ prefix: 'real-singer' });
    await realNodeOf(engine.plane);
    source = await podReachablePostgres();
    await seedOrders(source, 'shop', ROWS);
    outDir = join(engine.plane.dir, `${engine.namespace}-out`);
    await hostPathClaim(engine.plane, engine.namespace, 'orders-out', outDir);
    const tap = await applyTapPostgres(engine, source, 'shop');
    await engine.apply(
      catalogPlugin('target-jsonl'),
      pipeline('orders', {
        steps: [
          {
            name: 'el',
            ...tap,
            target: {
              plugin: 'target-jsonl',
              config: { do_timestamp_file: true },
              // The catalog's target writes to /data/out: a claim there keeps the files.
              volumes: [
                { name: 'out', mountPath: '/data/out', persistentVolumeClaim: { claimName: 'orders-out' } },
              ],
            },
          },
        ],
      }),
    );
  });
  after(async () => {
    await engine?.stop();
    await source?.server.stop();
  });

  const orders = (previous?: string): Promise<RunStatus> => finishedRun(engine, 'orders', previous);
  const storedState = async (): Promise<unknown> =>
    (
      await engine.db.pool.query<{ state: unknown }>(
        'SELECT state FROM flexcore_read.singer_state WHERE state_id = $1',
        [`${engine.namespace}/orders/el`],
      )
    ).rows[0]?.state;

  let firstRun: RunStatus;

  it('moves every row of the table through the FIFO into the target’s files', async () => {
    firstRun = await orders();
    const step = firstRun.steps![0]!;
    expect(step.phase, JSON.stringify(firstRun)).to.equal('Succeeded');
    const records = (await jsonlRecordsIn(outDir)) as { id: number; customer: string }[];
    expect(records).to.have.length(ROWS);
    expect(new Set(records.map((r) => Number(r.id))).size).to.equal(ROWS);
    expect(records.find((r) => Number(r.id) === 42)?.customer).to.equal('customer-42');
  });

  it('stores the last STATE the target wrote on its standard output', async () => {
    const state = await eventually(storedState, 30_000, 'the state to be stored');
    expect(state).to.deep.include({
      bookmarks: { 'public-orders': { replication_key: 'id', replication_key_value: ROWS } },
    });
  });

  it('gives that state to the next run’s tap (--state), which reads only newer rows', async () => {
    await source.query(
      'shop',
      `INSERT INTO public.orders (id, customer, amount) SELECT g, 'late', 1 FROM generate_series($1::int, $2::int) g`,
      [ROWS + 1, ROWS + 10],
    );
    await engine.kubectl([
      'annotate',
      '--overwrite',
      'flexpipeline',
      'orders',
      'flexcore.io/run-requested=second',
    ]);
    const second = await orders(firstRun.id);
    const step = second.steps![0]!;
    expect(step.phase, JSON.stringify(second)).to.equal('Succeeded');
    const pod = await engine.get<PodJson>('pod', step.pod!);
    expect(pod.spec.containers.find((c) => c.name === 'tap')?.command).to.include('--state');
    const records = (await jsonlRecordsIn(outDir)) as { id: number }[];
    const ids = records.map((r) => Number(r.id)).filter((id) => id >= ROWS);
    // Incremental from the bookmark: the SDK re-reads the bookmarked row (>=), then the new ones.
    expect(records).to.have.length(ROWS + 11);
    expect(new Set(ids)).to.deep.equal(new Set(Array.from({ length: 11 }, (_, i) => ROWS + i)));
    expect(await eventually(storedState, 30_000)).to.deep.include({
      bookmarks: { 'public-orders': { replication_key: 'id', replication_key_value: ROWS + 10 } },
    });
  });

  it('keeps the password in the attempt’s config Secret only, deleted after: not in the Pod, status, events or log tails', async () => {
    const pw = source.password;
    const p = await engine.get<{ status?: { lastRun?: RunStatus } }>('flexpipeline', 'orders');
    const podName = p.status!.lastRun!.steps![0]!.pod!;
    expect(JSON.stringify(await engine.get('pod', podName))).to.not.contain(pw);
    expect(JSON.stringify(p)).to.not.contain(pw);
    expect(await engine.kubectl(['get', 'events', '-o', 'json'])).to.not.contain(pw);
    const leaks = await engine.db.pool.query<{ n: string }>(
      `SELECT (SELECT count(*) FROM flexcore.events WHERE data::text LIKE $1) +
              (SELECT count(*) FROM flexcore_read.log_tails WHERE tail LIKE $1) AS n`,
      [`%${pw}%`],
    );
    expect(Number(leaks.rows[0]!.n)).to.equal(0);
    // It reached the tap only through the attempt's config Secret (scram-sha-256 let it in:
    // the rows moved), and that Secret is gone once the attempt ended.
    const secret = await engine.kubectl(['get', 'secret', podName, '--ignore-not-found', '-o', 'name']);
    expect(secret.trim()).to.equal('');
  });
});
