/**
 * Singer discovery and catalog rules with the real tap-postgres | target-jsonl on the real
 * node: discovery runs once and is cached, runs again after the rediscover annotation or a
 * config change; select leaves out a stream and a column (they never reach the target);
 * metadata makes a stream INCREMENTAL on updated_at, so the next run moves only newer rows, and
 * a full refresh moves everything again. Then what cannot work says so: a select that matches
 * nothing (a warning, a run that syncs nothing), a tap that cannot discover (a condition, no
 * Pod), catalogs over the bounds (CatalogTooLarge).
 */
import { expect } from 'chai';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { catalogPlugin } from '../../hack/demo/catalog.js';
import { eventually, startEngine, type Engine } from './support/engine.js';
import { pipeline } from './support/manifests.js';
import {
  ON_REAL_NODE,
  applyTapPostgres,
  finishedRun,
  hostPathClaim,
  podReachablePostgres,
  realNodeOf,
  type PodReachablePostgres,
  type RunStatus,
} from './support/real.js';

const ROWS = 300;
/** A timestamp per row, a minute apart: a bookmark on updated_at then splits rows exactly. */
const UPDATED_AT = `timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute'`;

interface OrderRow {
  id: number;
  customer?: string;
  secret?: string;
  updated_at?: string;
}

describe('real node: Singer discovery, select and metadata with tap-postgres', function () {
  this.timeout(600_000);
  let engine: Engine;
  let source: PodReachablePostgres;
  let outDir: string;
  let step: Record<string, unknown>;

  const run = (name: string, previous?: string): Promise<RunStatus> => finishedRun(engine, name, previous);
  const request = async (name: string, value: string, extra: string[] = []): Promise<void> => {
    await engine.kubectl([
      'annotate',
      '--overwrite',
      'flexpipeline',
      name,
      `flexcore.io/run-requested=${value}`,
      ...extra,
    ]);
  };
  const count = async (type: string): Promise<number> =>
    Number(
      (
        await engine.db.pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM flexcore.events e
            WHERE e.type = $1 AND e.data->>'step' = 'el'
              AND e.data->>'runId' IN (SELECT run_id FROM flexcore_read.runs WHERE pipeline_namespace = $2 AND pipeline_name = 'orders')`,
          [type, engine.namespace],
        )
      ).rows[0]!.n,
    );
  /** Records of the last run: target-jsonl writes a timestamped file per stream and run. */
  const seen = new Set<string>();
  const newRecords = async (): Promise<OrderRow[]> => {
    const files = (await readdir(outDir)).filter((f) => f.endsWith('.jsonl') && !seen.has(f));
    const rows: OrderRow[] = [];
    for (const f of files) {
      seen.add(f);
      const text = await readFile(join(outDir, f), 'utf8');
      for (const line of text.split('\n')) if (line.trim()) rows.push(JSON.parse(line) as OrderRow);
    }
    return rows;
  };
  const fileNames = async (): Promise<string[]> => readdir(outDir);

  before(async () => {
    engine = await startEngine({ prefix: 'real-catalog' });
    await realNodeOf(engine.plane);
    source = await podReachablePostgres();
    await source.server.createDatabase('shop');
    await source.query(
      'shop',
      `CREATE TABLE public.orders (id bigint PRIMARY KEY, customer text NOT NULL, secret text, updated_at timestamptz NOT NULL);
       CREATE TABLE public.customers (id bigint PRIMARY KEY, name text NOT NULL);
       INSERT INTO public.orders SELECT g, 'customer-' || g, 'pin-' || g, ${UPDATED_AT} FROM generate_series(1, ${ROWS}) g;
       INSERT INTO public.customers SELECT g, 'name-' || g FROM generate_series(1, 10) g;`,
    );
    outDir = join(engine.plane.dir, `${engine.namespace}-catalog-out`);
    await hostPathClaim(engine.plane, engine.namespace, 'out', outDir);
    await engine.apply(catalogPlugin('target-jsonl'));
    step = {
      name: 'el',
      // The Secret shop-db, the catalog's tap-postgres, and its config for public in database shop.
      ...(await applyTapPostgres(engine, source, 'shop')),
      catalog: {
        select: ['public-orders.*', '!public-orders.secret'],
        metadata: {
          'public-orders': { 'replication-method': 'INCREMENTAL', 'replication-key': 'updated_at' },
        },
      },
      target: {
        plugin: 'target-jsonl',
        config: { do_timestamp_file: true },
        volumes: [{ name: 'out', mountPath: '/data/out', persistentVolumeClaim: { claimName: 'out' } }],
      },
    };
    await engine.apply(pipeline('orders', { steps: [step] }));
  });
  after(async () => {
    await engine?.stop();
    await source?.server.stop();
  });

  let first: RunStatus;

  it('discovers the catalog in a Pod of its own, then syncs only the selected stream and columns', async () => {
    first = await run('orders');
    expect(first.phase, JSON.stringify(first)).to.equal('Succeeded');
    const records = await newRecords();
    expect(records).to.have.length(ROWS);
    expect(
      records.every((r) => r.secret === undefined),
      'the excluded column never reaches the target',
    ).to.equal(true);
    expect(records[0]).to.include.keys('id', 'customer', 'updated_at');
    const files = await fileNames();
    expect(
      files.some((f) => f.includes('customers')),
      'the unselected stream never reaches the target',
    ).to.equal(false);
    expect(await count('CatalogDiscoveryScheduled')).to.equal(1);
    const cached = await engine.db.pool.query<{ streams: number; bytes: number }>(
      'SELECT streams, bytes FROM flexcore_read.discovered_catalogs',
    );
    expect(cached.rows.map((r) => r.streams)).to.deep.equal([2]);
  });

  it('reuses the cached catalog, and the bookmark on updated_at moves only newer rows', async () => {
    await source.query(
      'shop',
      `UPDATE public.orders SET customer = 'changed', updated_at = timestamptz '2027-01-01 00:00:00+00' + id * interval '1 second' WHERE id <= 5;
       INSERT INTO public.orders SELECT g, 'late-' || g, 'pin', timestamptz '2027-02-01 00:00:00+00' FROM generate_series(${ROWS + 1}, ${ROWS + 3}) g;`,
    );
    await request('orders', 'second');
    const second = await run('orders', first.id);
    expect(second.phase, JSON.stringify(second)).to.equal('Succeeded');
    expect(await count('CatalogDiscoveryScheduled'), 'no second discovery').to.equal(1);
    const ids = (await newRecords()).map((r) => Number(r.id)).sort((a, b) => a - b);
    expect(ids.filter((id) => id <= 5)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(ids.filter((id) => id > ROWS)).to.deep.equal([ROWS + 1, ROWS + 2, ROWS + 3]);
    // Unchanged rows stay behind, but for the bookmarked row itself (the newest of run 1), which
    // the SDK reads again (>=): Singer's at-least-once, one duplicate per stream and run.
    expect(
      ids.filter((id) => id > 5 && id <= ROWS),
      'rows not changed since run 1',
    ).to.deep.equal([ROWS]);
    first = second;
  });

  it('discovers again when the rediscover annotation asks, and after a config change', async () => {
    await request('orders', 'rediscover', ['flexcore.io/rediscover=schema-changed']);
    const third = await run('orders', first.id);
    expect(third.phase).to.equal('Succeeded');
    expect(await count('CatalogDiscoveryScheduled')).to.equal(2);
    // Every schema now, pg_catalog and information_schema too: a catalog of about 260 KB, whose
    // end containerd dropped before the discovery wrapper paused after printing it.
    const { filter_schemas: _public, ...everySchema } = step.config as Record<string, unknown>;
    step = { ...step, config: everySchema };
    await engine.apply(pipeline('orders', { steps: [step] }));
    first = await run('orders', third.id);
    expect(first.phase).to.equal('Succeeded');
    expect(await count('CatalogDiscoveryScheduled'), 'new config, new cache key').to.equal(3);
  });

  it('moves every row again on a full refresh', async () => {
    await newRecords();
    await request('orders', 'full', ['flexcore.io/run-full-refresh=el']);
    const full = await run('orders', first.id);
    expect(full.phase).to.equal('Succeeded');
    const ids = new Set((await newRecords()).map((r) => Number(r.id)));
    expect(ids.size).to.equal(ROWS + 3);
  });

  it('warns when a select pattern matches nothing, and the run syncs nothing', async () => {
    await engine.apply(
      pipeline('nothing', {
        steps: [{ ...step, catalog: { select: ['public-invoices.*'] } }],
      }),
    );
    await newRecords();
    const r = await run('nothing');
    expect(r.phase, JSON.stringify(r)).to.equal('Succeeded');
    expect(await newRecords()).to.deep.equal([]);
    const events = await eventually(
      async () => {
        const out = await engine.kubectl([
          'get',
          'events',
          '--field-selector',
          'reason=CatalogPatternUnmatched',
          '-o',
          'json',
        ]);
        const items = (JSON.parse(out) as { items: { note?: string; message?: string }[] }).items;
        return items.length > 0 ? items : undefined;
      },
      30_000,
      'the CatalogPatternUnmatched event',
    );
    expect(JSON.stringify(events)).to.contain('public-invoices.* matched nothing');
  });

  it('refuses a tap that takes a catalog but cannot discover one: a condition, no Pod', async () => {
    const plugin = catalogPlugin('tap-postgres', { ...ON_REAL_NODE }) as unknown as {
      metadata: { name: string };
      spec: { capabilities: string[] };
    };
    await engine.apply(
      {
        ...plugin,
        metadata: { name: 'tap-blind' },
        spec: { ...plugin.spec, capabilities: ['catalog', 'state'] },
      },
      pipeline('blind', { steps: [{ ...step, plugin: 'tap-blind' }] }),
    );
    const ready = await eventually(
      async () => {
        const p = await engine.get<{
          status?: { phase?: string; conditions?: { type: string; reason?: string; message?: string }[] };
        }>('flexpipeline', 'blind');
        return p.status?.phase === 'Invalid'
          ? p.status.conditions?.find((c) => c.type === 'Ready')
          : undefined;
      },
      30_000,
      'the blind pipeline to be Invalid',
    );
    expect(ready.reason).to.equal('DiscoveryUnsupported');
    expect(ready.message).to.contain('configMapRef');
    const pods = await engine.kubectl(['get', 'pods', '-l', 'flexcore.io/pipeline=blind', '-o', 'name']);
    expect(pods.trim()).to.equal('');
  });

  /** A "tap" that prints a catalog of `streams` streams × 40 columns (the tap image's Python). */
  const bigTap = (name: string, streams: number): object => {
    const plugin = catalogPlugin('tap-postgres', { ...ON_REAL_NODE }) as unknown as {
      spec: Record<string, unknown>;
    };
    const script = `import json
cols = {f"c{i}": {"type": ["string", "null"]} for i in range(40)}
print(json.dumps({"streams": [{"tap_stream_id": f"s{n}", "schema": {"type": "object", "properties": cols}, "metadata": []} for n in range(${streams})]}))`;
    // No settings: the fake needs no config.
    return {
      ...plugin,
      metadata: { name },
      spec: { ...plugin.spec, settings: [], command: ['python3', '-c', script] },
    };
  };

  it('fails an attempt whose catalog is over the bounds with CatalogTooLarge, saying which bound', async () => {
    // ≈ 2 MiB of catalog: within what discovery may print, over what a sync's Secret can carry.
    await engine.apply(
      bigTap('tap-wide', 1000),
      pipeline('wide', { steps: [{ name: 'el', plugin: 'tap-wide' }] }),
    );
    const wide = await run('wide');
    expect(wide.steps?.[0]).to.include({ phase: 'Failed', reason: 'CatalogTooLarge' });
    expect(wide.steps?.[0]?.message).to.contain('select fewer streams');
    // ≈ 10 MiB: the discovery wrapper refuses to print it.
    await engine.apply(
      bigTap('tap-huge', 8000),
      pipeline('huge', { steps: [{ name: 'el', plugin: 'tap-huge' }] }),
    );
    const huge = await run('huge');
    expect(huge.steps?.[0]).to.include({ phase: 'Failed', reason: 'CatalogTooLarge' });
    expect(huge.steps?.[0]?.message).to.contain('over FlexCore');
  });
});
