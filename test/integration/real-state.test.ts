/**
 * Singer state with the real tap-postgres | target-postgres on the real node: when the target
 * fails in the middle of a run, the stored state stays the last STATE a target emitted, and the
 * next run resumes from it with no row lost (the rows after that bookmark are sent again:
 * Singer's at-least-once, which target-postgres absorbs by upserting on the key); then
 * `flexcore state set` and `clear`, through the status API, decide where the next run's tap
 * starts.
 */
import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catalogPlugin } from '../../hack/demo/catalog.js';
import { replicaApi, type ReplicaApi } from '../../controller/cli/replica-api.js';
import { createLogger } from '../../controller/log.js';
import { startHttpServer, type HttpServer } from '../../controller/server/http-server.js';
import { pipelineStream } from '../../controller/pipeline/naming.js';
import { runFlexcore } from './support/async.js';
import { startEngine, type Engine } from './support/engine.js';
import { pipeline } from './support/manifests.js';
import {
  ON_REAL_NODE,
  applyTapPostgres,
  finishedRun,
  podReachablePostgres,
  realNodeOf,
  type PodReachablePostgres,
  type RunStatus,
} from './support/real.js';

const FIRST = 20_000;
const MORE = 20_000;
const ALL = FIRST + MORE;
/** The warehouse refuses this row in run 2, so target-postgres fails in the middle of the run. */
const POISON = FIRST + 15_000;
/** updated_at of row g: a second apart, so a bookmark on updated_at splits rows exactly. */
const UPDATED_AT = (g: string): string => `timestamptz '2026-01-01 00:00:00+00' + ${g} * interval '1 second'`;

interface Bookmark {
  bookmarks: Record<string, { replication_key?: string; replication_key_value?: string }>;
}

describe('real node: Singer state with tap-postgres | target-postgres', function () {
  this.timeout(900_000);
  let engine: Engine;
  let source: PodReachablePostgres;
  let api: ReplicaApi;
  let server: HttpServer;
  let home: string;
  const stateId = (): string => `${engine.namespace}/orders/el`;

  const run = async (value: string, previous?: string): Promise<RunStatus> => {
    await engine.kubectl([
      'annotate',
      '--overwrite',
      'flexpipeline',
      'orders',
      `flexcore.io/run-requested=${value}`,
    ]);
    return finishedRun(engine, 'orders', previous, 400_000);
  };
  const warehouse = async <T extends Record<string, unknown>>(sql: string): Promise<T[]> =>
    source.query<T>('dw', sql);
  const loaded = async (): Promise<{ rows: number; ids: number }> =>
    (
      await warehouse<{ rows: number; ids: number }>(
        'SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids FROM landing.orders',
      )
    )[0]!;
  /** Rows target-postgres wrote since `since` (its _sdc_batched_at record metadata). */
  const writtenSince = async (since: Date): Promise<number> =>
    (
      await warehouse<{ n: number }>(
        `SELECT count(*)::int AS n FROM landing.orders WHERE _sdc_batched_at >= '${since.toISOString()}'`,
      )
    )[0]!.n;
  const stored = async (): Promise<{ state: Bookmark | null; partial_state: Bookmark | null }> =>
    (
      await engine.db.pool.query<{ state: Bookmark | null; partial_state: Bookmark | null }>(
        'SELECT state, partial_state FROM flexcore_read.singer_state WHERE state_id = $1',
        [stateId()],
      )
    ).rows[0]!;
  const bookmarkOf = (s: Bookmark | null): string | undefined =>
    s?.bookmarks['public-orders']?.replication_key_value;
  /** Rows of the source at or after a bookmark: what a tap that starts from it sends. */
  const sourceRowsFrom = async (bookmark: string): Promise<number> =>
    (
      await source.query<{ n: number }>(
        'shop',
        'SELECT count(*)::int AS n FROM public.orders WHERE updated_at >= $1',
        [bookmark],
      )
    )[0]!.n;
  /** updated_at of source row `id`, as JSON writes it (the form the tap's bookmarks take). */
  const timeOf = async (id: number): Promise<string> =>
    (
      await source.query<{ t: string }>(
        'shop',
        `SELECT to_json(updated_at)#>>'{}' AS t FROM public.orders WHERE id = $1`,
        [id],
      )
    )[0]!.t;
  /** Records by container and stream that run `runId`'s attempts counted (SingerRecordsCounted). */
  const recordsCounted = async (runId: string): Promise<Record<string, Record<string, number>>> => {
    const p = await engine.get<{ metadata: { uid: string } }>('flexpipeline', 'orders');
    const out: Record<string, Record<string, number>> = {};
    for (const e of await engine.manager.store.readStream(pipelineStream(p.metadata.uid))) {
      if (e.type !== 'SingerRecordsCounted' || e.data.runId !== runId) continue;
      const byStream = (out[String(e.data.container)] ??= {});
      for (const [stream, n] of Object.entries(e.data.streams as Record<string, number>))
        byStream[stream] = (byStream[stream] ?? 0) + n;
    }
    return out;
  };
  const flexcore = (args: string[], stdin?: string): ReturnType<typeof runFlexcore> =>
    runFlexcore([...args, '-n', engine.namespace], {
      env: { PATH: process.env.PATH, HOME: home, FLEXCORE_API_URL: `http://127.0.0.1:${server.port}` },
      ...(stdin !== undefined && { stdin }),
    });

  before(async () => {
    engine = await startEngine({ prefix: 'real-state' });
    await realNodeOf(engine.plane);
    source = await podReachablePostgres();
    await source.server.createDatabase('shop');
    await source.query(
      'shop',
      `CREATE TABLE public.orders (id bigint PRIMARY KEY, customer text NOT NULL, updated_at timestamptz NOT NULL);
       INSERT INTO public.orders SELECT g, 'customer-' || g % 97, ${UPDATED_AT('g')} FROM generate_series(1, ${FIRST}) g;`,
    );
    await source.server.createDatabase('dw');
    const tap = await applyTapPostgres(engine, source, 'shop');
    await engine.apply(catalogPlugin('target-postgres', { ...ON_REAL_NODE }));
    await engine.apply(
      pipeline('orders', {
        loadSchema: 'landing',
        steps: [
          {
            name: 'el',
            ...tap,
            catalog: {
              select: ['public-orders.*'],
              metadata: {
                'public-orders': { 'replication-method': 'INCREMENTAL', 'replication-key': 'updated_at' },
              },
            },
            target: {
              plugin: 'target-postgres',
              // Small batches: the target commits and emits STATE many times in a run.
              config: {
                host: source.podHost,
                port: source.port,
                user: 'postgres',
                database: 'dw',
                batch_size_rows: 2000,
              },
              configFrom: [{ setting: 'password', secretKeyRef: { name: 'shop-db', key: 'password' } }],
            },
          },
        ],
      }),
    );
    home = await mkdtemp(join(tmpdir(), 'fc-real-state-'));
    const logger = createLogger({ level: 'warn', format: 'text' });
    api = replicaApi({
      manager: engine.manager,
      storeConfig: { url: engine.db.url, poolSize: 2, tls: 'disable', caFile: undefined },
      mode: 'none',
      kc: engine.plane.kubeConfig(),
      registry: engine.manager.registry,
      logger,
      env: {},
    });
    server = await startHttpServer({
      readiness: engine.manager,
      registry: engine.manager.registry,
      port: 0,
      host: '127.0.0.1',
      api: api.router,
    });
  });
  after(async () => {
    await server?.close();
    await api?.stop();
    await engine?.stop();
    await source?.server.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });

  let third: RunStatus;
  let lastRun: RunStatus;

  it('keeps the last STATE a target emitted when target-postgres fails mid-run, and the next run resumes from it with no row lost', async () => {
    const first = await finishedRun(engine, 'orders', undefined, 400_000); // the run applying it started
    expect(first.phase, JSON.stringify(first)).to.equal('Succeeded');
    expect(await loaded()).to.deep.equal({ rows: FIRST, ids: FIRST });
    const afterFirst = bookmarkOf((await stored()).state);
    expect(afterFirst, 'run 1 stored a bookmark on updated_at').to.be.a('string');
    // What the tap extracted and the target loaded, from their METRIC lines: the rows moved.
    expect(await recordsCounted(first.id!)).to.deep.equal({
      tap: { 'public-orders': FIRST },
      target: { 'public-orders': FIRST },
    });
    const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
    for (const container of ['tap', 'target']) {
      expect(metrics).to.include(
        `flexcore_singer_records_total{namespace="${engine.namespace}",pipeline="orders",container="${container}",stream="public-orders"} ${FIRST}`,
      );
    }

    await source.query(
      'shop',
      `INSERT INTO public.orders SELECT g, 'customer-' || g % 97, ${UPDATED_AT('g')} FROM generate_series(${FIRST + 1}, ${ALL}) g`,
    );
    await warehouse(
      `CREATE FUNCTION landing.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused row %', NEW.id; END $$;
       CREATE TRIGGER poison BEFORE INSERT OR UPDATE ON landing.orders FOR EACH ROW WHEN (NEW.id = ${POISON}) EXECUTE FUNCTION landing.refuse();`,
    );
    const second = await run('two', first.id);
    expect(second.phase, JSON.stringify(second)).to.equal('Failed');
    // target-postgres committed batches of 2000 before the refused row, but emitted no STATE:
    // Singer SDK targets emit state only when every sink is drained (at the end of the input,
    // or when records are 5 minutes old). The stored state stays the last one a target emitted.
    const committed = await loaded();
    expect(committed.rows).to.be.within(FIRST + 2000, POISON - 1);
    const afterFailure = await stored();
    expect(bookmarkOf(afterFailure.state)).to.equal(afterFirst);
    expect(afterFailure.partial_state).to.equal(null);

    await warehouse('DROP TRIGGER poison ON landing.orders');
    const start = new Date();
    third = await run('three', second.id);
    expect(third.phase, JSON.stringify(third)).to.equal('Succeeded');
    // No row lost, none twice in the table.
    expect(await loaded()).to.deep.equal({ rows: ALL, ids: ALL });
    // Run 3 started from that state: it sent exactly the rows at or after run 1's bookmark —
    // the bookmark row and the rows run 2 had committed were sent again (Singer's at-least-once)
    // and upserted on the key, so the table holds each once.
    expect(await writtenSince(start)).to.equal(await sourceRowsFrom(afterFirst!));
    expect(await sourceRowsFrom(afterFirst!)).to.equal(MORE + 1);
    expect(await recordsCounted(third.id!)).to.deep.equal({
      tap: { 'public-orders': MORE + 1 },
      target: { 'public-orders': MORE + 1 },
    });
    const newest = await timeOf(ALL);
    expect(Date.parse(bookmarkOf((await stored()).state)!)).to.equal(Date.parse(newest));
  });

  it("sets and clears through the CLI what the next run's tap starts from; each change is an event", async () => {
    const listed = await flexcore(['state', 'get', 'orders']);
    expect(listed.code, listed.stderr).to.equal(0);
    expect(listed.stdout).to.include(`run ${third.id}`);
    const current = JSON.parse((await flexcore(['state', 'get', 'orders', 'el'])).stdout) as Bookmark;
    // Start the next run ten rows before the end.
    const rewound = await timeOf(ALL - 9);
    current.bookmarks['public-orders']!.replication_key_value = rewound;
    const file = join(home, 'state.json');
    await writeFile(file, JSON.stringify(current));
    const set = await flexcore(['state', 'set', 'orders', 'el', file]);
    expect(set.code, set.stderr).to.equal(0);
    await warehouse('TRUNCATE landing.orders');
    const fourth = await run('four', third.id);
    expect(fourth.phase, JSON.stringify(fourth)).to.equal('Succeeded');
    expect(await loaded()).to.deep.equal({ rows: 10, ids: 10 });

    const cleared = await flexcore(['state', 'clear', 'orders', 'el']);
    expect(cleared.code, cleared.stderr).to.equal(0);
    await warehouse('TRUNCATE landing.orders');
    const fifth = await run('five', fourth.id);
    expect(fifth.phase, JSON.stringify(fifth)).to.equal('Succeeded');
    expect(await loaded()).to.deep.equal({ rows: ALL, ids: ALL });

    const { rows } = await engine.db.pool.query<{ type: string; data: { requestedBy: string } }>(
      'SELECT type, data FROM flexcore.events WHERE stream_id = $1 ORDER BY position',
      [`singer-state-${stateId()}`],
    );
    expect(rows.map((r) => r.type)).to.deep.equal(['SingerStateSet', 'SingerStateCleared']);
    lastRun = fifth;
  });

  it('starts a stream again from nothing when its replication key changed, instead of handing the tap a bookmark on the old key', async () => {
    expect((await stored()).state?.bookmarks['public-orders']?.replication_key).to.equal('updated_at');
    await warehouse('TRUNCATE landing.orders');
    await engine.kubectl([
      'patch',
      'flexpipeline',
      'orders',
      '--type=json',
      '-p',
      JSON.stringify([
        { op: 'replace', path: '/spec/steps/0/catalog/metadata/public-orders/replication-key', value: 'id' },
      ]),
    ]);
    const sixth = await finishedRun(engine, 'orders', lastRun.id, 400_000); // the new generation's run
    expect(sixth.phase, JSON.stringify(sixth)).to.equal('Succeeded');
    expect(await loaded()).to.deep.equal({ rows: ALL, ids: ALL });
    expect((await stored()).state?.bookmarks['public-orders']).to.deep.include({
      replication_key: 'id',
      replication_key_value: ALL,
    });
  });
});
