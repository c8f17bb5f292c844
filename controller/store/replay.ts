/**
 * Rebuilds the read models from the event log into fresh tables and compares them with the
 * live ones, row for row. Runs in one REPEATABLE READ transaction, so the events it replays
 * and the live rows it compares with are the same snapshot even while appends go on.
 * With `swap`, appends are held for the duration and the rebuilt tables replace the live ones.
 */
import type pg from 'pg';
import { classify } from './errors.js';
import { LIVE_SCHEMA, PROJECTION_TABLES } from './projector.js';
import { prepared } from './sql.js';

export interface TableComparison {
  readonly table: string;
  readonly liveRows: number;
  readonly replayedRows: number;
  /** Rows in one but not the other (counting duplicates). */
  readonly differences: number;
}

export interface ReplayReport {
  readonly schema: string;
  readonly events: number;
  readonly tables: TableComparison[];
  readonly equal: boolean;
  readonly swapped: boolean;
}

export interface ReplayOptions {
  /** Keep the rebuilt schema after comparing (default: drop it). */
  readonly keep?: boolean;
  /** Replace the live read models with the rebuilt ones (holds appends meanwhile). */
  readonly swap?: boolean;
  /** Events read per batch. */
  readonly batchSize?: number;
}

const quote = (ident: string): string => `"${ident.replace(/"/g, '""')}"`;

export async function replayProjections(pool: pg.Pool, options: ReplayOptions = {}): Promise<ReplayReport> {
  const schema = `flexcore_replay_${Date.now()}`;
  const client = await pool.connect().catch((err: unknown) => {
    throw classify(err);
  });
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    // EXCLUSIVE mode on the stream table blocks appends (they lock stream rows) but not reads.
    if (options.swap) await client.query('LOCK TABLE flexcore.streams IN EXCLUSIVE MODE');
    await client.query(`CREATE SCHEMA ${quote(schema)}`);
    for (const t of PROJECTION_TABLES) {
      await client.query(`CREATE TABLE ${quote(schema)}.${t} (LIKE ${LIVE_SCHEMA}.${t} INCLUDING ALL)`);
    }
    await client.query(`SET LOCAL search_path TO ${quote(schema)}`);
    const events = await replayEvents(client, options.batchSize ?? 1000);
    const tables: TableComparison[] = [];
    for (const t of PROJECTION_TABLES) tables.push(await compare(client, schema, t));
    const equal = tables.every((t) => t.differences === 0);
    if (options.swap) {
      await client.query(`ALTER SCHEMA ${LIVE_SCHEMA} RENAME TO ${quote(`${schema}_old`)}`);
      await client.query(`ALTER SCHEMA ${quote(schema)} RENAME TO ${LIVE_SCHEMA}`);
      await client.query(`DROP SCHEMA ${quote(`${schema}_old`)} CASCADE`);
    } else if (!options.keep) {
      await client.query(`DROP SCHEMA ${quote(schema)} CASCADE`);
    }
    await client.query('COMMIT');
    return {
      schema: options.swap ? LIVE_SCHEMA : schema,
      events,
      tables,
      equal,
      swapped: options.swap === true,
    };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw classify(err);
  } finally {
    client.release();
  }
}

/** Projects every event, in position order, into the tables on the search_path. */
async function replayEvents(client: pg.PoolClient, batchSize: number): Promise<number> {
  let after = 0;
  let count = 0;
  for (;;) {
    // In the database: the events' exact timestamps, and no round trip per event.
    const { rows } = await client.query<{ projected: number; last_position: string }>(
      prepared('project-batch', [after, batchSize]),
    );
    const { projected, last_position } = rows[0]!;
    count += projected;
    if (projected < batchSize) return count;
    after = Number(last_position);
  }
}

async function compare(client: pg.PoolClient, schema: string, table: string): Promise<TableComparison> {
  const live = `${LIVE_SCHEMA}.${table}`;
  const replayed = `${quote(schema)}.${table}`;
  const { rows } = await client.query<{ live: string; replayed: string; differences: string }>(
    `SELECT (SELECT count(*) FROM ${live}) AS live,
            (SELECT count(*) FROM ${replayed}) AS replayed,
            (SELECT count(*) FROM ((TABLE ${live} EXCEPT ALL TABLE ${replayed})
                              UNION ALL (TABLE ${replayed} EXCEPT ALL TABLE ${live})) d) AS differences`,
  );
  const r = rows[0]!;
  return {
    table,
    liveRows: Number(r.live),
    replayedRows: Number(r.replayed),
    differences: Number(r.differences),
  };
}
