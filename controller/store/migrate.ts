/**
 * Numbered migrations (`migrations/NNN_name.sql`), applied at start-up in order, each in its
 * own transaction, under an advisory lock so replicas starting together apply them once.
 * `flexcore.schema_migrations` records what ran with a checksum; a changed file is an error.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import type pg from 'pg';
import { MigrationError, classify } from './errors.js';

/** Arbitrary constant: the advisory-lock key of FlexCore migrations. */
const LOCK_KEY = 0x666c6578; // "flex"
const DIR = new URL('./migrations/', import.meta.url);
const FILE = /^(\d{3})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  readonly id: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

/** The migrations shipped with this version, in order. */
export function migrations(): Migration[] {
  return readdirSync(DIR)
    .flatMap((file) => {
      const m = FILE.exec(file);
      if (!m) return [];
      const text = readFileSync(new URL(file, DIR), 'utf8');
      return [
        {
          id: Number(m[1]),
          name: m[2]!,
          sql: text,
          checksum: createHash('sha256').update(text).digest('hex'),
        },
      ];
    })
    .sort((a, b) => a.id - b.id);
}

/** Applies the pending migrations; returns the names of those applied now. */
export async function migrate(pool: pg.Pool): Promise<string[]> {
  const client = await pool.connect().catch((err: unknown) => {
    throw classify(err);
  });
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS flexcore;
      CREATE TABLE IF NOT EXISTS flexcore.schema_migrations (
        id int PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ id: number; checksum: string }>(
      'SELECT id, checksum FROM flexcore.schema_migrations',
    );
    const applied = new Map(rows.map((r) => [r.id, r.checksum]));
    const ran: string[] = [];
    for (const m of migrations()) {
      const previous = applied.get(m.id);
      if (previous !== undefined) {
        if (previous !== m.checksum) {
          throw new MigrationError(
            `migration ${m.id}_${m.name} changed after it was applied; add a new migration instead`,
          );
        }
        continue;
      }
      try {
        await client.query('BEGIN');
        await client.query(m.sql);
        await client.query(
          'INSERT INTO flexcore.schema_migrations (id, name, checksum) VALUES ($1, $2, $3)',
          [m.id, m.name, m.checksum],
        );
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        const cause = classify(err);
        if (cause !== err) throw cause;
        throw new MigrationError(`migration ${m.id}_${m.name} failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
      ran.push(`${String(m.id).padStart(3, '0')}_${m.name}`);
    }
    return ran;
  } catch (err) {
    throw classify(err);
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => undefined);
    client.release();
  }
}
