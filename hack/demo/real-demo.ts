/**
 * The main job's demo on the real node: the catalog's real plugins move a seeded table from an
 * embedded PostgreSQL (reachable by Pods, password only through a Secret) into JSON Lines files
 * on a claim, and into a warehouse schema that dbt then builds a model from. Applied before the
 * main job waits for its runs; report() prints what arrived.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ControlPlane } from '../plane/control-plane.js';
import { REAL_NODE_PLACEMENT } from '../plane/node/node-config.js';
import { hostPathClaim } from './host-path-claim.js';
import { podReachablePostgres, seedOrders, type PodReachablePostgres } from './source-db.js';

/** Rows in the demo's source table. */
export const DEMO_ROWS = 1000;

/** The plugin images the demo runs (hack/build-images.sh names). */
const IMAGES = ['tap-postgres', 'target-jsonl', 'target-postgres', 'dbt-postgres'] as const;

/** The demo's catalog rules: only public.orders, INCREMENTAL on updated_at (Meltano's select and metadata). */
const ORDERS_INCREMENTAL = {
  select: ['public-orders.*'],
  metadata: { 'public-orders': { 'replication-method': 'INCREMENTAL', 'replication-key': 'updated_at' } },
};

const MODEL = `-- Orders and revenue per customer, from the table target-postgres loaded.
select customer, count(*) as orders, sum(amount) as revenue
from raw.orders
group by customer
`;

/** Source rows the demo's second round inserts, and rows it updates. */
const INSERTED = [DEMO_ROWS + 1, DEMO_ROWS + 2, DEMO_ROWS + 3];
const UPDATED = [17, 42];

/** A started demo: what to print after each round, the change between them, and how to stop its database. */
export interface RealDemo {
  readonly pipelines: readonly string[];
  /** The pipeline the second round runs again. */
  readonly incremental: string;
  report(): Promise<string>;
  /** Inserts and updates a few source rows; returns a line saying which. */
  changeSource(): Promise<string>;
  /** After the second round: which rows it moved, and the model again. */
  reportIncrement(): Promise<string>;
  stop(): Promise<void>;
}

function object(
  apiVersion: string,
  kind: string,
  name: string,
  rest: Record<string, unknown>,
): Record<string, unknown> {
  return { apiVersion, kind, metadata: { name }, ...rest };
}

/**
 * The demo's pipelines. Their source database is new on every start, while the event store (and
 * the Singer state in it) may be the same as last time: so the taps keep their bookmarks under
 * a state id of this start (`stateId`), never one a previous demo left.
 */
function pipelines(source: PodReachablePostgres, start: string): Record<string, unknown>[] {
  const db = { host: source.podHost, port: source.port, user: 'postgres' };
  const password = [{ setting: 'password', secretKeyRef: { name: 'demo-db', key: 'password' } }];
  const tap = {
    plugin: 'tap-postgres',
    config: { ...db, database: 'shop', filter_schemas: ['public'] },
    configFrom: password,
    catalog: ORDERS_INCREMENTAL,
  };
  return [
    object('flexcore.io/v1alpha1', 'FlexPipeline', 'demo-orders-files', {
      spec: {
        steps: [
          {
            name: 'extract-load',
            ...tap,
            stateId: `${start}/files`,
            ...REAL_NODE_PLACEMENT,
            target: {
              plugin: 'target-jsonl',
              config: { destination_path: '/data/out', do_timestamp_file: false },
              volumes: [
                { name: 'files', mountPath: '/data/out', persistentVolumeClaim: { claimName: 'demo-files' } },
              ],
            },
          },
        ],
      },
    }),
    object('flexcore.io/v1alpha1', 'FlexPipeline', 'demo-orders-warehouse', {
      spec: {
        steps: [
          {
            name: 'load',
            ...tap,
            stateId: `${start}/warehouse`,
            ...REAL_NODE_PLACEMENT,
            target: { plugin: 'target-postgres', config: { ...db, database: 'dw' }, configFrom: password },
          },
          {
            name: 'transform',
            plugin: 'dbt',
            dependsOn: ['load'],
            ...REAL_NODE_PLACEMENT,
            config: { ...db, dbname: 'dw', schema: 'analytics' },
            configFrom: password,
            volumes: [
              {
                name: 'project',
                mountPath: '/project',
                configMap: {
                  name: 'demo-dbt',
                  items: [
                    { key: 'dbt_project.yml', path: 'dbt_project.yml' },
                    { key: 'orders_by_customer.sql', path: 'models/orders_by_customer.sql' },
                  ],
                },
              },
            ],
          },
        ],
      },
    }),
  ];
}

/**
 * Imports the images, starts and seeds the demo database, and applies the demo's Secret,
 * ConfigMaps, claim and pipelines into `namespace` (where the catalog is already applied).
 */
export async function startRealDemo(
  plane: ControlPlane,
  namespace: string,
  say: (line: string) => void,
): Promise<RealDemo> {
  const node = plane.realNode;
  if (!node) throw new Error('the real demo needs the plane’s real node');
  say('real node: importing the plugin images (built by hack/build-images.sh)');
  await node.ensureImages(IMAGES);
  const source = await podReachablePostgres();
  try {
    await seedOrders(source, 'shop', DEMO_ROWS);
    await source.server.createDatabase('dw');
    say(
      `demo: PostgreSQL on ${source.podHost}:${source.port} with shop.public.orders (${DEMO_ROWS} rows) and an empty warehouse dw`,
    );
    const files = join(plane.dir, 'demo-files');
    await hostPathClaim(plane, namespace, 'demo-files', files);
    const objects = [
      object('v1', 'Secret', 'demo-db', { type: 'Opaque', stringData: { password: source.password } }),
      object('v1', 'ConfigMap', 'demo-dbt', {
        data: {
          'dbt_project.yml': 'name: demo\nversion: "1.0"\nprofile: demo\nmodel-paths: [models]\n',
          'orders_by_customer.sql': MODEL,
        },
      }),
      ...pipelines(source, `demo-${Date.now().toString(36)}`),
    ];
    await plane.kubectl(
      ['apply', '-n', namespace, '-f', '-'],
      objects.map((o) => stringify(o)).join('---\n'),
    );
    say('demo: applied demo-orders-files and demo-orders-warehouse (steps pinned to the real node)');
    let changedAt = '';
    return {
      pipelines: ['demo-orders-files', 'demo-orders-warehouse'],
      incremental: 'demo-orders-warehouse',
      report: () => report(source, files),
      async changeSource() {
        changedAt = (await source.query<{ t: string }>('dw', 'SELECT now()::text AS t'))[0]!.t;
        await source.query(
          'shop',
          `INSERT INTO public.orders (id, customer, amount, updated_at)
             SELECT g, 'customer-' || (g % 97), 99.90, now() FROM unnest($1::bigint[]) g`,
          [INSERTED],
        );
        await source.query(
          'shop',
          'UPDATE public.orders SET amount = amount + 1000, updated_at = now() WHERE id = ANY ($1::bigint[])',
          [UPDATED],
        );
        return `demo: inserted orders ${INSERTED.join(', ')} and updated orders ${UPDATED.join(', ')} in shop.public.orders`;
      },
      reportIncrement: () => reportIncrement(source, changedAt),
      stop: () => source.server.stop(),
    };
  } catch (err) {
    await source.server.stop();
    throw err;
  }
}

/** The model's size and its top customers. */
async function modelLines(source: PodReachablePostgres): Promise<string[]> {
  const size = await source
    .query<{ n: number; orders: number }>(
      'dw',
      'SELECT count(*)::int AS n, sum(orders)::int AS orders FROM analytics.orders_by_customer',
    )
    .catch(() => []);
  const model = await source
    .query<{ customer: string; orders: string; revenue: string }>(
      'dw',
      'SELECT customer, orders, revenue FROM analytics.orders_by_customer ORDER BY revenue DESC LIMIT 3',
    )
    .catch(() => []);
  return [
    `demo-orders-warehouse: dbt built analytics.orders_by_customer: ${size[0]?.n ?? 0} rows over ${size[0]?.orders ?? 0} orders; top customers:`,
    ...model.map((r) => `  ${r.customer}: ${r.orders} orders, revenue ${r.revenue}`),
  ];
}

/** What the second run moved: the rows target-postgres wrote since the change (its _sdc_batched_at). */
async function reportIncrement(source: PodReachablePostgres, since: string): Promise<string> {
  const moved = await source
    .query<{ id: string }>('dw', 'SELECT id FROM raw.orders WHERE _sdc_batched_at >= $1 ORDER BY id', [since])
    .catch(() => []);
  const total = await source
    .query<{ n: number }>('dw', 'SELECT count(*)::int AS n FROM raw.orders')
    .catch(() => []);
  const ids = moved.map((r) => Number(r.id));
  const changed = new Set([...INSERTED, ...UPDATED]);
  const again = ids.filter((id) => !changed.has(id));
  const lines = [
    `demo-orders-warehouse: run 2 moved ${ids.length} rows (orders ${ids.join(', ')}), not ${total[0]?.n ?? '?'}: only what changed since run 1's bookmark on updated_at` +
      (again.length > 0
        ? ` (order ${again.join(', ')} is the bookmark row, which Singer reads again: at least once)`
        : ''),
    `demo-orders-warehouse: dw.raw.orders now holds ${total[0]?.n ?? 0} rows`,
    ...(await modelLines(source)),
  ];
  return `${lines.join('\n')}\n`;
}

async function report(source: PodReachablePostgres, files: string): Promise<string> {
  const lines: string[] = [];
  const names = (await readdir(files)).filter((f) => f.endsWith('.jsonl'));
  for (const name of names) {
    const rows = (await readFile(join(files, name), 'utf8')).split('\n').filter((l) => l.trim());
    lines.push(`demo-orders-files: ${rows.length} rows arrived in ${join(files, name)}, e.g.`);
    for (const row of rows.slice(0, 3)) lines.push(`  ${row}`);
  }
  if (names.length === 0) lines.push(`demo-orders-files: no files arrived in ${files}`);
  const loaded = await source
    .query<{ n: string }>('dw', 'SELECT count(*) AS n FROM raw.orders')
    .catch(() => []);
  lines.push(`demo-orders-warehouse: ${loaded[0]?.n ?? 0} rows arrived in dw.raw.orders`);
  lines.push(...(await modelLines(source)));
  return `${lines.join('\n')}\n`;
}
