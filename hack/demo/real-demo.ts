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

/** A started demo: what to print at the end, and how to stop its database. */
export interface RealDemo {
  readonly pipelines: readonly string[];
  report(): Promise<string>;
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

function pipelines(source: PodReachablePostgres): Record<string, unknown>[] {
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
      ...pipelines(source),
    ];
    await plane.kubectl(
      ['apply', '-n', namespace, '-f', '-'],
      objects.map((o) => stringify(o)).join('---\n'),
    );
    say('demo: applied demo-orders-files and demo-orders-warehouse (steps pinned to the real node)');
    return {
      pipelines: ['demo-orders-files', 'demo-orders-warehouse'],
      report: () => report(source, files),
      stop: () => source.server.stop(),
    };
  } catch (err) {
    await source.server.stop();
    throw err;
  }
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
  const model = await source
    .query<{ customer: string; orders: string; revenue: string }>(
      'dw',
      'SELECT customer, orders, revenue FROM analytics.orders_by_customer ORDER BY revenue DESC LIMIT 3',
    )
    .catch(() => []);
  lines.push(`demo-orders-warehouse: dbt built analytics.orders_by_customer; top customers:`);
  for (const r of model) lines.push(`  ${r.customer}: ${r.orders} orders, revenue ${r.revenue}`);
  return `${lines.join('\n')}\n`;
}
