/**
 * Steps that really run: the real plugin images on the shared plane's real node, a PostgreSQL
 * the Pods can reach (the node address, password only), and readers of what the steps wrote.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually, type Engine } from './engine.js';
import { catalogPlugin } from '../../../hack/demo/catalog.js';
import type { ControlPlane } from '../../../hack/plane/control-plane.js';
import { REAL_NODE_PLACEMENT, type RealNode } from '../../../hack/plane/node/real-node.js';
import type { PodReachablePostgres } from '../../../hack/demo/source-db.js';

export { podReachablePostgres, seedOrders, type PodReachablePostgres } from '../../../hack/demo/source-db.js';
export { hostPathClaim } from '../../../hack/demo/host-path-claim.js';

/** The plugin images the realism tests use (hack/build-images.sh names). */
export const PLUGIN_IMAGES = ['tap-postgres', 'target-jsonl', 'target-postgres', 'dbt-postgres'] as const;

/** The shared plane's real node, with the plugin images imported. */
export async function realNodeOf(plane: ControlPlane): Promise<RealNode> {
  const node = plane.realNode;
  if (!node) throw new Error('the shared plane was started without its real node');
  await node.ensureImages(PLUGIN_IMAGES);
  return node;
}

/** FlexPlugin defaults that put a step on the real node (it is tainted against everything else). */
export const ON_REAL_NODE = REAL_NODE_PLACEMENT;

/** The JSON Lines records in every file under `dir`. */
export async function jsonlRecordsIn(dir: string): Promise<unknown[]> {
  const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.jsonl'));
  const records: unknown[] = [];
  for (const f of files) {
    const text = await readFile(join(dir, f), 'utf8');
    for (const line of text.split('\n')) if (line.trim()) records.push(JSON.parse(line));
  }
  return records;
}

/** A run as the pipeline's status shows it. */
export interface RunStatus {
  readonly id?: string;
  readonly phase?: string;
  readonly steps?: readonly {
    readonly name: string;
    readonly phase?: string;
    readonly reason?: string;
    readonly message?: string;
    readonly exitCode?: number;
    readonly pod?: string;
  }[];
}

interface PipelineJson {
  readonly status?: { readonly currentRun?: RunStatus; readonly lastRun?: RunStatus };
}

/** The last run of `pipeline` once it has finished and is not the run `previous`. */
export async function finishedRun(
  engine: Engine,
  pipeline: string,
  previous?: string,
  timeoutMs = 240_000,
): Promise<RunStatus> {
  return eventually(
    async () => {
      const p = await engine.get<PipelineJson>('flexpipeline', pipeline);
      const last = p.status?.lastRun;
      return !p.status?.currentRun && last?.phase && last.id !== previous ? last : undefined;
    },
    timeoutMs,
    `a run of ${pipeline} to finish`,
  );
}

/** The stored log tail of one container of an attempt. */
export async function logTail(
  engine: Engine,
  runId: string,
  step: string,
  container: string,
  attempt = 1,
): Promise<string> {
  return eventually(
    async () => {
      const rows = await engine.db.pool.query<{ tail: string }>(
        'SELECT tail FROM flexcore_read.log_tails WHERE run_id = $1 AND step = $2 AND attempt = $3 AND container = $4',
        [runId, step, attempt, container],
      );
      return rows.rows[0]?.tail;
    },
    30_000,
    `the log tail of ${step}/${container}`,
  );
}

/** Catalog rules: public.orders only, INCREMENTAL on id. */
export const ORDERS_BY_ID = {
  select: ['public-orders.*'],
  metadata: { 'public-orders': { 'replication-method': 'INCREMENTAL', 'replication-key': 'id' } },
};

/**
 * Applies what a tap-postgres step needs in the engine's namespace: the password Secret
 * `shop-db` and the catalog's FlexPlugin `tap-postgres`, on the real node. Returns the step
 * fields that read database `db`: the tap discovers its catalog, and ORDERS_BY_ID selects
 * public.orders, INCREMENTAL on id.
 */
export async function applyTapPostgres(
  engine: Engine,
  source: PodReachablePostgres,
  db: string,
): Promise<Record<string, unknown>> {
  await engine.apply(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'shop-db' },
      type: 'Opaque',
      stringData: { password: source.password },
    },
    catalogPlugin('tap-postgres', { ...ON_REAL_NODE }),
  );
  return {
    plugin: 'tap-postgres',
    config: {
      host: source.podHost,
      port: source.port,
      user: 'postgres',
      database: db,
      filter_schemas: ['public'],
    },
    configFrom: [{ setting: 'password', secretKeyRef: { name: 'shop-db', key: 'password' } }],
    catalog: ORDERS_BY_ID,
  };
}
