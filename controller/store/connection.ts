/**
 * Connecting to PostgreSQL. Production sets DATABASE_URL (with DATABASE_POOL_SIZE,
 * DATABASE_TLS and DATABASE_CA_FILE as needed); with nothing set the controller uses an
 * embedded server (embedded-postgres.ts).
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { StoreConfigError } from './errors.js';

export type TlsMode = 'disable' | 'require' | 'verify-full';

export interface StoreConfig {
  /** postgres:// URL; undefined means "use the embedded server". */
  readonly url: string | undefined;
  readonly poolSize: number;
  readonly tls: TlsMode;
  /** PEM file of the CA that signed the server certificate (verify-full). */
  readonly caFile: string | undefined;
}

/** Reads the store settings from the environment; throws StoreConfigError on bad values. */
export function storeConfigFromEnv(env: NodeJS.ProcessEnv): StoreConfig {
  const poolSize = Number(env.DATABASE_POOL_SIZE ?? '10');
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 1000) {
    throw new StoreConfigError(
      `DATABASE_POOL_SIZE must be an integer from 1 to 1000, got "${env.DATABASE_POOL_SIZE}"`,
    );
  }
  const tls = (env.DATABASE_TLS ?? 'disable') as TlsMode;
  if (!['disable', 'require', 'verify-full'].includes(tls)) {
    throw new StoreConfigError(
      `DATABASE_TLS must be disable, require or verify-full, got "${env.DATABASE_TLS}"`,
    );
  }
  const url = env.DATABASE_URL?.trim() || undefined;
  if (url !== undefined && !/^postgres(ql)?:\/\//.test(url)) {
    throw new StoreConfigError('DATABASE_URL must start with postgres:// or postgresql://');
  }
  return { url, poolSize, tls, caFile: env.DATABASE_CA_FILE || undefined };
}

/** A pg pool for `url`. Idle-client errors (server restarts) are reported, never thrown. */
export function createPool(
  config: StoreConfig & { url: string },
  onError?: (err: Error) => void,
  extra: { statementTimeoutMs?: number; applicationName?: string } = {},
): pg.Pool {
  let ssl: pg.PoolConfig['ssl'];
  if (config.tls !== 'disable') {
    let ca: string | undefined;
    if (config.caFile) {
      try {
        ca = readFileSync(config.caFile, 'utf8');
      } catch (err) {
        throw new StoreConfigError(
          `cannot read DATABASE_CA_FILE ${config.caFile}: ${(err as Error).message}`,
        );
      }
    }
    ssl = { rejectUnauthorized: config.tls === 'verify-full', ...(ca ? { ca } : {}) };
  }
  const pool = new pg.Pool({
    connectionString: config.url,
    max: config.poolSize,
    ssl,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    // The engine's transactions are a few statements sent back to back. One left idle (a
    // frozen replica, mid-transaction) would hold its fence's lock and keep a new leader from
    // raising it: the server ends it after this long.
    idle_in_transaction_session_timeout: 10_000,
    application_name: extra.applicationName ?? 'flexcore',
    ...(extra.statementTimeoutMs !== undefined && { statement_timeout: extra.statementTimeoutMs }),
  });
  pool.on('error', (err) => onError?.(err));
  return pool;
}
