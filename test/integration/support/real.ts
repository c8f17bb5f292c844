/**
 * Steps that really run: the real plugin images on the shared plane's real node, a PostgreSQL
 * the Pods can reach (the node address, password only), and readers of what the steps wrote.
 */
import { chown, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { REPO_ROOT } from './async.js';
import { eventually, type Engine } from './engine.js';
import { plugin } from './manifests.js';
import type { ControlPlane } from '../../../hack/plane/control-plane.js';
import { NODE_NETWORK, REAL_NODE, type RealNode } from '../../../hack/plane/node/real-node.js';
import { startPostgres, type PostgresServer } from '../../../hack/services/postgres.js';

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
export const ON_REAL_NODE = {
  nodeSelector: { [REAL_NODE.label.key]: REAL_NODE.label.value },
  tolerations: [{ key: REAL_NODE.taint.key, operator: 'Exists', effect: 'NoSchedule' }],
} as const;

/** A PostgreSQL server Pods on the real node reach at `podHost:port`. */
export interface PodReachablePostgres {
  readonly server: PostgresServer;
  readonly podHost: string;
  readonly port: number;
  /** The password of the `postgres` user (for the Secret the step reads it from). */
  readonly password: string;
  /** A client of database `db`, from the test process. */
  client(db: string): Promise<pg.Client>;
  query<T extends pg.QueryResultRow>(db: string, sql: string, params?: unknown[]): Promise<T[]>;
}

export async function podReachablePostgres(): Promise<PodReachablePostgres> {
  const server = await startPostgres({
    remoteClients: { address: NODE_NETWORK.nodeIp, networks: [NODE_NETWORK.podCidr] },
  });
  const url = new URL(server.url);
  const client = async (db: string): Promise<pg.Client> => {
    const u = new URL(server.url);
    u.pathname = `/${db}`;
    const c = new pg.Client({ connectionString: u.toString() });
    await c.connect();
    return c;
  };
  return {
    server,
    podHost: NODE_NETWORK.nodeIp,
    port: server.port,
    password: decodeURIComponent(url.password),
    client,
    async query<T extends pg.QueryResultRow>(db: string, sql: string, params: unknown[] = []): Promise<T[]> {
      const c = await client(db);
      try {
        return (await c.query<T>(sql, params)).rows;
      } finally {
        await c.end();
      }
    },
  };
}

/** Seeds `db`.public.orders with `rows` rows (id, customer, amount, updated_at). */
export async function seedOrders(pgs: PodReachablePostgres, db: string, rows: number): Promise<void> {
  await pgs.server.createDatabase(db);
  await pgs.query(
    db,
    `CREATE TABLE public.orders (id bigint PRIMARY KEY, customer text NOT NULL, amount numeric(12,2) NOT NULL,
       updated_at timestamptz NOT NULL DEFAULT now())`,
  );
  await pgs.query(
    db,
    `INSERT INTO public.orders (id, customer, amount)
       SELECT g, 'customer-' || (g % 97), (g % 1000) / 10.0 FROM generate_series(1, $1) g`,
    [rows],
  );
}

/**
 * A PersistentVolumeClaim `name` in `namespace` bound to a hostPath PersistentVolume at a new
 * directory `dir` on this machine (owned by the sandbox user), so the test reads what a step
 * wrote after its Pod is gone. (A hostPath PersistentVolume is an admin's object; the Pod only
 * names the claim, which Pod Security "restricted" allows.)
 */
export async function hostPathClaim(
  plane: ControlPlane,
  namespace: string,
  name: string,
  dir: string,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await chown(dir, SANDBOX_UID, SANDBOX_UID);
  const pv = `${namespace}-${name}`;
  await plane.kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'v1',
          kind: 'PersistentVolume',
          metadata: { name: pv },
          spec: {
            capacity: { storage: '1Gi' },
            accessModes: ['ReadWriteOnce'],
            persistentVolumeReclaimPolicy: 'Retain',
            storageClassName: 'flexcore-test-hostpath',
            hostPath: { path: dir, type: 'Directory' },
            claimRef: { namespace, name },
          },
        },
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name, namespace },
          spec: {
            accessModes: ['ReadWriteOnce'],
            storageClassName: 'flexcore-test-hostpath',
            volumeName: pv,
            resources: { requests: { storage: '1Gi' } },
          },
        },
      ],
    }),
  );
  const deadline = Date.now() + 60_000;
  while (
    (await plane.kubectl(['-n', namespace, 'get', 'pvc', name, '-o', 'jsonpath={.status.phase}'])) !== 'Bound'
  ) {
    if (Date.now() > deadline)
      throw new Error(`PersistentVolumeClaim ${namespace}/${name} was not Bound after 60 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The user id FlexCore runs plugins as by default. */
export const SANDBOX_UID = 65532;

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

/**
 * Applies what a tap-postgres step needs in the engine's namespace: the password Secret
 * `shop-db`, the catalog ConfigMap `orders-catalog` (tap-postgres 0.10.0's own discovery of
 * public.orders, selected INCREMENTAL on id) and the FlexPlugin `tap-postgres` on the real
 * node. Returns the step fields that read database `db`.
 */
export async function applyTapPostgres(
  engine: Engine,
  source: PodReachablePostgres,
  db: string,
): Promise<Record<string, unknown>> {
  const catalog = await readFile(join(REPO_ROOT, 'test/fixtures/singer/orders-catalog.json'), 'utf8');
  await engine.apply(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'shop-db' },
      type: 'Opaque',
      stringData: { password: source.password },
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'orders-catalog' },
      data: { 'catalog.json': catalog },
    },
    plugin('tap-postgres', {
      type: 'tap',
      image: 'localhost/flexcore/tap-postgres:0.10.0',
      command: ['tap-postgres'],
      args: ['--catalog', '/catalog/catalog.json'],
      capabilities: ['catalog', 'discover', 'state'],
      settings: [
        { name: 'host', required: true },
        { name: 'port', kind: 'integer' },
        { name: 'user', required: true },
        { name: 'password', secret: true, required: true },
        { name: 'database', required: true },
        { name: 'filter_schemas', kind: 'array' },
      ],
      defaults: { ...ON_REAL_NODE },
    }),
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
    volumes: [{ name: 'catalog', mountPath: '/catalog', configMap: { name: 'orders-catalog' } }],
  };
}
