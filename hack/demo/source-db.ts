/**
 * A PostgreSQL that Pods on the real node can reach: an embedded server that also listens on
 * the node address and takes password logins from the Pod network, with a seeded table. The
 * main job's demo and the realism tests read from it.
 */
import pg from 'pg';
import { NODE_NETWORK } from '../plane/node/node-config.js';
import { startPostgres, type PostgresServer } from '../services/postgres.js';

/** A PostgreSQL server Pods on the real node reach at `podHost:port`. */
export interface PodReachablePostgres {
  readonly server: PostgresServer;
  readonly podHost: string;
  readonly port: number;
  /** The password of the `postgres` user (for the Secret a step reads it from). */
  readonly password: string;
  /** A client of database `db`, from this process. */
  client(db: string): Promise<pg.Client>;
  query<T extends pg.QueryResultRow>(db: string, sql: string, params?: unknown[]): Promise<T[]>;
}

export async function podReachablePostgres(): Promise<PodReachablePostgres> {
  const server = await startPostgres({
    // Always an embedded server of its own: DATABASE_URL names the event store's, not this.
    env: {},
    remoteClients: { address: NODE_NETWORK.nodeIp, networks: [NODE_NETWORK.podCidr] },
  });
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
    password: decodeURIComponent(new URL(server.url).password),
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

/**
 * Creates database `db` with public.orders holding `rows` rows (id, customer, amount,
 * updated_at). Row g was last updated g seconds after 2026-01-01: distinct and in the past, so a
 * bookmark on updated_at splits the rows exactly and a row changed now is newer than all.
 */
export async function seedOrders(pgs: PodReachablePostgres, db: string, rows: number): Promise<void> {
  await pgs.server.createDatabase(db);
  await pgs.query(
    db,
    `CREATE TABLE public.orders (id bigint PRIMARY KEY, customer text NOT NULL, amount numeric(12,2) NOT NULL,
       updated_at timestamptz NOT NULL DEFAULT now())`,
  );
  await pgs.query(
    db,
    `INSERT INTO public.orders (id, customer, amount, updated_at)
       SELECT g, 'customer-' || (g % 97), (g % 1000) / 10.0, timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second'
         FROM generate_series(1, $1) g`,
    [rows],
  );
}
