/** A fresh database with FlexCore's migrations, on the shared embedded PostgreSQL of this run. */
import pg from 'pg';
import { Registry } from 'prom-client';
import { EventStore } from '../../../controller/store/event-store.js';
import { migrate } from '../../../controller/store/migrate.js';
import { storeMetrics, type StoreMetrics } from '../../../controller/store/metrics.js';
import { startPostgres, type PostgresServer } from '../../../hack/services/postgres.js';

let server: Promise<PostgresServer> | undefined;

/** The PostgreSQL server shared by this mocha run (stopped by the root hook). */
export async function sharedPostgres(): Promise<PostgresServer> {
  server ??= startPostgres();
  return server;
}

export async function stopSharedPostgres(): Promise<void> {
  const s = await server?.catch(() => undefined);
  server = undefined;
  await s?.stop();
}

export interface TestStore {
  readonly url: string;
  readonly pool: pg.Pool;
  readonly store: EventStore;
  readonly metrics: StoreMetrics;
  readonly registry: Registry;
  close(): Promise<void>;
}

/** A new database, migrated, with an EventStore over a pool of `poolSize` connections. */
export async function freshStore(poolSize = 20): Promise<TestStore> {
  const pgServer = await sharedPostgres();
  const url = await pgServer.createDatabase();
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 3000 });
  pool.on('error', () => undefined); // idle clients die when the server restarts in outage tests
  await migrate(pool);
  const registry = new Registry();
  const metrics = storeMetrics(registry);
  return {
    url,
    pool,
    store: new EventStore(pool, metrics),
    metrics,
    registry,
    close: () => pool.end(),
  };
}
