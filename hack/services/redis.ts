/**
 * Redis for integration tests: Debian's `redis-server` on a free loopback port with a fresh
 * temporary directory and no persistence, or the server named by `REDIS_URL`.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { Redis } from 'ioredis';
import { PrerequisiteError } from '../plane/errors.js';
import { freePort } from '../plane/ports.js';
import { ManagedProcess, waitUntilReady } from '../plane/process.js';

export const REDIS_INSTALL_HINT =
  "install it with 'sudo apt-get install -y redis-server' (Debian/Ubuntu package redis-server) or run hack/install-debian.sh redis-server=redis-server as root";

export interface RedisOptions {
  /** Where `REDIS_URL` and `PATH` are read from, and the server's environment; defaults to `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** How long redis-server may take to answer PING; defaults to 20 s. */
  readonly startTimeoutMs?: number;
  /**
   * Also listen on this address (e.g. the real node's, for Pods), with a password: Redis's
   * protected mode refuses other hosts otherwise. `url` then carries the password.
   */
  readonly remote?: { readonly address: string };
}

export interface RedisServer {
  /** redis:// URL (or `REDIS_URL` as given). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** True when `REDIS_URL` is used instead of a local redis-server. */
  readonly external: boolean;
  /** Temporary directory (working dir, log) of the local server; undefined when external. */
  readonly dir: string | undefined;
  readonly logPath: string | undefined;
  /** True while the local server runs (always true when external). */
  readonly running: boolean;
  /** Stops the redis-server process; port and directory are kept for `resume()`. */
  pause(): Promise<void>;
  /** Starts redis-server again on the same port (empty: nothing is persisted). */
  resume(): Promise<void>;
  /** `pause()` then `resume()`. */
  restart(): Promise<void>;
  /** Stops the server and removes its temporary directory (external: does nothing). */
  stop(): Promise<void>;
}

/** Starts a local redis-server, or wraps `REDIS_URL` when that is set. */
export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  const env = options.env ?? process.env;
  const external = env['REDIS_URL'];
  if (external) return externalRedis(external);
  return LocalRedis.start(env, options.startTimeoutMs ?? 20_000, options.remote?.address);
}

/** Absolute path of `name` on `searchPath`, or undefined. */
async function findOnPath(name: string, searchPath: string): Promise<string | undefined> {
  for (const dir of searchPath.split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  return undefined;
}

/** True when a Redis server answers PING at `url`. */
export async function redisPing(url: string, timeoutMs = 1000): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

function externalRedis(url: string): RedisServer {
  const parsed = new URL(url);
  const unsupported = (what: string) => (): Promise<void> =>
    Promise.reject(
      new PrerequisiteError(
        `Redis ${what} is not supported with REDIS_URL (${parsed.host}); unset REDIS_URL so the harness starts its own redis-server`,
      ),
    );
  return {
    url,
    host: parsed.hostname,
    port: Number(parsed.port || 6379),
    external: true,
    dir: undefined,
    logPath: undefined,
    running: true,
    pause: unsupported('pause'),
    resume: unsupported('resume'),
    restart: unsupported('restart'),
    stop: () => Promise.resolve(),
  };
}

class LocalRedis implements RedisServer {
  readonly external = false;
  readonly host = '127.0.0.1';
  readonly url: string;
  readonly logPath: string;
  private proc: ManagedProcess | undefined;
  private stopped = false;

  private constructor(
    private readonly binary: string,
    readonly port: number,
    readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly startTimeoutMs: number,
    private readonly remoteAddress: string | undefined,
    /** Required when listening beyond loopback; undefined otherwise. */
    private readonly password: string | undefined,
  ) {
    this.url = `redis://${this.password === undefined ? '' : `:${this.password}@`}${this.host}:${port}`;
    this.logPath = join(dir, 'redis-server.log');
  }

  static async start(
    env: NodeJS.ProcessEnv,
    startTimeoutMs: number,
    remoteAddress?: string,
  ): Promise<LocalRedis> {
    const searchPath = env['PATH'] ?? '';
    const binary = await findOnPath('redis-server', searchPath);
    if (!binary) {
      throw new PrerequisiteError(
        `redis-server was not found on PATH (${searchPath}); ${REDIS_INSTALL_HINT}`,
      );
    }
    const dir = await mkdtemp(join(tmpdir(), 'flexcore-redis-'));
    try {
      const password = remoteAddress === undefined ? undefined : randomBytes(18).toString('base64url');
      const server = new LocalRedis(
        binary,
        await freePort(),
        dir,
        env,
        startTimeoutMs,
        remoteAddress,
        password,
      );
      await server.resume();
      return server;
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  get running(): boolean {
    return this.proc !== undefined && !this.proc.hasExited;
  }

  async resume(): Promise<void> {
    if (this.stopped) throw new Error('redis-server was stopped; start a new one');
    if (this.running) return;
    const proc = ManagedProcess.start({
      name: 'redis-server',
      command: this.binary,
      // An empty `--save` argument turns RDB snapshots off.
      args: [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        ...(this.remoteAddress === undefined ? [] : [this.remoteAddress]),
        ...(this.password === undefined ? [] : ['--requirepass', this.password]),
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
      ],
      logPath: this.logPath,
      env: this.env,
      cwd: this.dir,
    });
    this.proc = proc;
    try {
      await waitUntilReady(proc, () => redisPing(this.url), this.startTimeoutMs);
    } catch (err) {
      await proc.stop();
      throw err;
    }
  }

  async pause(): Promise<void> {
    await this.proc?.stop();
  }

  async restart(): Promise<void> {
    await this.pause();
    await this.resume();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.proc?.stop();
    } finally {
      await rm(this.dir, { recursive: true, force: true });
    }
  }
}
