/**
 * The work queue of a controller, with client-go's semantics: a key is queued at most once, a
 * key is held by at most one worker at a time (re-added while held, it is queued again on
 * `done`), delayed adds for timers where the earliest wins, and rate-limited adds for retries.
 */
import { systemClock, type CancelTimer, type Clock } from '../clock.js';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter.js';

/** What a queue reports, by queue name; `queueMetrics` (queue-metrics.ts) implements it with prom-client. */
export interface WorkQueueMetrics {
  /** A queue exists: read the ages (ms) of its in-flight keys from `inFlightAges` at scrape time. */
  register(queue: string, inFlightAges: () => readonly number[]): void;
  /** Keys waiting for a worker (queued, or re-added while being processed). */
  depth(queue: string, depth: number): void;
  /** A key was added that was not already waiting. */
  added(queue: string): void;
  /** A key was handed to a worker after waiting `waitedMs`. */
  started(queue: string, waitedMs: number): void;
  /** A worker finished a key after `workedMs`. */
  finished(queue: string, workedMs: number): void;
  /** A delayed add (retry or timer) was asked for; client-go counts every AddAfter. */
  retried(queue: string): void;
}

export interface WorkQueueOptions {
  /** Label of the queue's metrics; the controller's name. */
  readonly name: string;
  /** Time for delayed adds and metrics; the system clock by default. */
  readonly clock?: Clock;
  /** Delays of `addRateLimited`; `defaultControllerRateLimiter` by default. */
  readonly rateLimiter?: RateLimiter;
  readonly metrics?: WorkQueueMetrics;
}

interface Delayed {
  readonly at: number;
  readonly cancel: CancelTimer;
}

/**
 * A de-duplicating, delaying, rate-limited queue of keys (client-go's workqueue). After
 * `shutDown` it accepts nothing and `get` resolves `undefined`; keys still queued are dropped,
 * since reconciles are level-triggered and the next start lists every object anyway.
 */
export class WorkQueue {
  readonly name: string;
  private readonly clock: Clock;
  private readonly rateLimiter: RateLimiter;
  private readonly metrics: WorkQueueMetrics | undefined;
  /** Keys ready for a worker, in the order they were added. */
  private readonly ready = new Set<string>();
  /** Keys that need processing: ready ones and those re-added while a worker holds them. */
  private readonly dirty = new Set<string>();
  /** Keys held by a worker, with the time it got them. */
  private readonly processing = new Map<string, number>();
  private readonly addedAt = new Map<string, number>();
  private readonly delayed = new Map<string, Delayed>();
  private readonly getters: ((key: string | undefined) => void)[] = [];
  private readonly drainers: (() => void)[] = [];
  private shuttingDown = false;

  constructor(options: WorkQueueOptions) {
    this.name = options.name;
    this.clock = options.clock ?? systemClock;
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter(this.clock);
    this.metrics = options.metrics;
    this.metrics?.register(this.name, () => this.inFlightAges());
  }

  /** Queues `key` unless it is already waiting; a key being processed is queued again on `done`. */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.addedAt.set(key, this.clock.now());
    this.metrics?.added(this.name);
    this.reportDepth();
    if (!this.processing.has(key)) this.makeReady(key);
  }

  /** Adds `key` after `delayMs`; if it is already scheduled, the earlier time wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    this.metrics?.retried(this.name);
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + delayMs;
    const scheduled = this.delayed.get(key);
    if (scheduled && scheduled.at <= at) return;
    scheduled?.cancel();
    const cancel = this.clock.setTimer(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.delayed.set(key, { at, cancel });
  }

  /** Adds `key` after the delay its rate limiter gives (one more failure of it). */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** Resets the backoff of `key` (call it after a success). */
  forget(key: string): void {
    this.rateLimiter.forget(key);
  }

  /** How many failures of `key` its rate limiter is counting. */
  numRequeues(key: string): number {
    return this.rateLimiter.numRequeues(key);
  }

  /** The next key for a worker, waiting until there is one; `undefined` once shut down. */
  async get(): Promise<string | undefined> {
    if (this.shuttingDown) return undefined;
    if (this.ready.size > 0) return this.take();
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** A worker finished `key`; if it was re-added meanwhile, it is queued again now. */
  done(key: string): void {
    const startedAt = this.processing.get(key);
    if (startedAt === undefined) return;
    this.processing.delete(key);
    this.metrics?.finished(this.name, this.clock.now() - startedAt);
    if (this.dirty.has(key)) this.makeReady(key);
    else if (this.processing.size === 0) this.releaseDrainers();
  }

  /** Keys ready for a worker (not counting delayed ones). */
  len(): number {
    return this.ready.size;
  }

  /** Stops the queue: waiting and later `get` calls resolve `undefined`, queued and delayed keys are dropped. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { cancel } of this.delayed.values()) cancel();
    this.delayed.clear();
    this.ready.clear();
    this.dirty.clear();
    this.addedAt.clear();
    this.reportDepth();
    for (const resolve of this.getters.splice(0)) resolve(undefined);
    if (this.processing.size === 0) this.releaseDrainers();
  }

  /** `shutDown`, then waits until every key handed to a worker is `done`. */
  async shutDownWithDrain(): Promise<void> {
    const drained = new Promise<void>((resolve) => this.drainers.push(resolve));
    this.shutDown();
    return drained;
  }

  private makeReady(key: string): void {
    this.ready.add(key);
    while (this.getters.length > 0 && this.ready.size > 0) {
      this.getters.shift()?.(this.take());
    }
  }

  /** Hands the oldest ready key to a worker. */
  private take(): string {
    const key = this.ready.values().next().value;
    if (key === undefined) throw new Error('work queue: take() with no ready key');
    const now = this.clock.now();
    this.ready.delete(key);
    this.dirty.delete(key);
    this.processing.set(key, now);
    this.metrics?.started(this.name, now - (this.addedAt.get(key) ?? now));
    this.addedAt.delete(key);
    this.reportDepth();
    return key;
  }

  private releaseDrainers(): void {
    if (!this.shuttingDown) return;
    for (const resolve of this.drainers.splice(0)) resolve();
  }

  private reportDepth(): void {
    this.metrics?.depth(this.name, this.dirty.size);
  }

  private inFlightAges(): number[] {
    const now = this.clock.now();
    return [...this.processing.values()].map((startedAt) => now - startedAt);
  }
}
