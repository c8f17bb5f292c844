/**
 * Redis, when configured: fast and visible, never the lock. It carries announcements (a scope
 * was released: standbys try at once), membership heartbeats (keys with a TTL, for balancing
 * buckets) and the published holder of every scope (for the status API). When Redis goes away
 * the controller goes on with Leases alone: said once in the log, in `flexcore_redis_up` and in
 * readiness details; when it returns, everything resumes.
 */
import { Redis } from 'ioredis';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../log.js';

export interface Announcement {
  readonly scope: string;
  readonly by: string;
  /** `released`: the scope's Lease was handed back; `leaving`: replica `by` is shutting down. */
  readonly event: 'released' | 'leaving';
}

export interface HolderInfo {
  readonly identity: string;
  readonly token: number;
  readonly since: string;
}

export interface RedisLinkOptions {
  readonly url: string;
  /** Keys and the channel live under `flexcore:<prefix>:` (the election namespace). */
  readonly prefix: string;
  readonly logger: Logger;
  readonly registry?: Registry;
}

const OPTIONS = {
  lazyConnect: true,
  // Fail fast instead of queueing commands while Redis is away: Leases carry on meanwhile.
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  connectTimeout: 2000,
  retryStrategy: (times: number): number => Math.min(100 * times, 2000),
} as const;

export class RedisLink {
  private readonly client: Redis;
  private readonly subscriber: Redis;
  private readonly base: string;
  private readonly channel: string;
  private readonly log: Logger;
  private readonly gauge: Gauge | undefined;
  private readonly listeners: ((a: Announcement) => void)[] = [];
  private healthy = false;
  private reported: boolean | undefined;
  /** Reports wait until start() has tried both connections (one is often ready before the other). */
  private started = false;

  constructor(private readonly o: RedisLinkOptions) {
    this.base = `flexcore:${o.prefix}:`;
    this.channel = `${this.base}leadership`;
    this.log = o.logger.child({ component: 'redis' });
    this.client = new Redis(o.url, OPTIONS);
    this.subscriber = new Redis(o.url, OPTIONS);
    this.gauge = o.registry
      ? new Gauge({
          name: 'flexcore_redis_up',
          help: 'Whether Redis answers (1) or the controller runs on Leases alone (0).',
          registers: [o.registry],
        })
      : undefined;
    for (const c of [this.client, this.subscriber]) {
      c.on('ready', () => this.changed());
      c.on('close', () => this.changed());
      c.on('error', () => this.changed()); // reported once through changed(); never thrown
    }
    // Subscribe on every (re)connect: a start while Redis was away never subscribed at all.
    this.subscriber.on('ready', () => void this.subscriber.subscribe(this.channel).catch(() => undefined));
    this.subscriber.on('message', (_channel: string, text: string) => this.deliver(text));
  }

  /** Connects; an unreachable Redis is a degraded start, not a failure. */
  async start(): Promise<void> {
    this.gauge?.set(0);
    await Promise.all([this.client.connect(), this.subscriber.connect()]).catch(() => undefined);
    this.started = true;
    this.changed();
  }

  get up(): boolean {
    return this.healthy;
  }

  onAnnouncement(listener: (a: Announcement) => void): void {
    this.listeners.push(listener);
  }

  async announce(a: Announcement): Promise<void> {
    await this.quietly(() => this.client.publish(this.channel, JSON.stringify(a)));
  }

  /** Marks `identity` live for `ttlMs`. */
  async heartbeat(identity: string, ttlMs: number): Promise<boolean> {
    return (
      (await this.quietly(() => this.client.set(`${this.base}member:${identity}`, '1', 'PX', ttlMs))) !==
      undefined
    );
  }

  async leave(identity: string): Promise<void> {
    await this.quietly(() => this.client.del(`${this.base}member:${identity}`));
  }

  /** Live members, or undefined when Redis cannot say. */
  async members(): Promise<string[] | undefined> {
    const prefix = `${this.base}member:`;
    return this.quietly(async () => {
      const found: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await this.client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 200);
        cursor = next;
        found.push(...keys.map((k) => k.slice(prefix.length)));
      } while (cursor !== '0');
      return found;
    });
  }

  async publishHolder(scope: string, info: HolderInfo | undefined): Promise<void> {
    const key = `${this.base}holders`;
    await this.quietly(() =>
      info ? this.client.hset(key, scope, JSON.stringify(info)) : this.client.hdel(key, scope),
    );
  }

  /** The published holder of every scope. */
  async holders(): Promise<Record<string, HolderInfo | undefined> | undefined> {
    const all = await this.quietly(() => this.client.hgetall(`${this.base}holders`));
    if (!all) return undefined;
    const parsed = (v: string): HolderInfo | undefined => {
      try {
        return JSON.parse(v) as HolderInfo;
      } catch {
        return undefined; // not ours: ignored
      }
    };
    return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, parsed(v)]));
  }

  stop(): void {
    this.started = false; // closing our own connections is not an outage to report
    this.client.disconnect();
    this.subscriber.disconnect();
    this.healthy = false;
  }

  private deliver(text: string): void {
    let a: Announcement;
    try {
      a = JSON.parse(text) as Announcement;
    } catch {
      return; // not ours
    }
    if (typeof a?.scope !== 'string') return;
    for (const l of this.listeners) l(a);
  }

  private async quietly<T>(command: () => Promise<T>): Promise<T | undefined> {
    if (this.client.status !== 'ready') return undefined;
    try {
      return await command();
    } catch {
      this.changed();
      return undefined;
    }
  }

  /** Logs and exports a change of health once, not on every reconnect attempt. */
  private changed(): void {
    this.healthy = this.client.status === 'ready' && this.subscriber.status === 'ready';
    this.gauge?.set(this.healthy ? 1 : 0);
    if (!this.started || this.reported === this.healthy) return;
    if (this.healthy) this.log.info('Redis is reachable: announcements and membership go through it');
    else this.log.warn('Redis is unreachable: going on with Leases alone until it returns');
    this.reported = this.healthy;
  }
}
