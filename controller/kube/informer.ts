/**
 * An informer (reflector + cache) for one collection: list, then watch from the list's
 * resourceVersion, keeping a frozen cache and calling handlers for every change.
 *
 * Written instead of client-node 1.4's makeInformer, whose ListWatch leaves a watch that ended
 * with an error stopped (or restarts it in a hot loop), never notices a silent half-open
 * connection, and has no clear 410 path. Here every ended watch is resumed from the last
 * resourceVersion with backoff, a 410 relists, a watchdog aborts a watch that went quiet, and
 * an old event never moves the cache back in time. docs/informers.md has the guarantees.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ClusterAccess } from './cluster-access.js';
import { systemClock, type CancelTimer, type Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { isGone } from './api-status-error.js';
import { Backoff, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { HttpListWatch } from './http-list-watch.js';
import {
  resourceLabel,
  type InformerMetrics,
  type SharedInformerMetrics,
  type WatchRestartReason,
} from './informer-metrics.js';
import type {
  ListPage,
  ListWatch,
  WatchEvent,
  WatchHandle,
  WatchObserver,
  WatchQuery,
} from './list-watch.js';
import { ObjectCache, type CacheChange } from './object-cache.js';
import type { AddHandler, DeleteHandler, ResourceInformer, UpdateHandler } from './resource-informer.js';
import { isNewerOrUnknown } from './resource-version.js';

export interface InformerOptions<T extends KubernetesObject = KubernetesObject> {
  readonly kubeConfig: ClusterAccess;
  /** The collection path: `/api/v1/pods`, `/apis/flexcore.io/v1alpha1/namespaces/ns/flexpipelines`. */
  readonly path: string;
  readonly labelSelector?: string;
  /**
   * Every this often each cached object is handed to the update handlers again as (obj, obj),
   * so a level-triggered controller re-checks everything. Default 10 min; 0 turns it off.
   */
  readonly resyncMs?: number;
  /**
   * A watch that brings no event and no bookmark for this long is aborted and resumed.
   * Watches ask for bookmarks, which the apiserver sends about once a minute even when nothing
   * changes, so 150 s (the default) is one missed bookmark plus slack: a quiet but healthy
   * watch is never cut, a half-open one is noticed within 2.5 minutes. 0 turns it off.
   */
  readonly watchdogMs?: number;
  /** Retry delays for lists and watches; a watch that lived `resetAfterMs` (60 s) is resumed at once. */
  readonly backoff?: Partial<BackoffPolicy> & { readonly resetAfterMs?: number };
  /** Objects per list page (500). */
  readonly pageSize?: number;
  /** A list page that takes longer than this is aborted and retried (60 s). */
  readonly listTimeoutMs?: number;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly metrics?: InformerMetrics | SharedInformerMetrics;
  /** The list and watch transport; HttpListWatch over `kubeConfig` by default. A seam for tests. */
  readonly listWatch?: ListWatch;
  /** Source of randomness for jitter and watch timeouts (Math.random). */
  readonly random?: () => number;
  /**
   * Trims each object before it is cached (as client-go's SetTransform), so the cache holds
   * only what handlers read. Default: drop `metadata.managedFields`, often half an object.
   */
  readonly transform?: (obj: T) => T;
}

/** The default transform: the object without `metadata.managedFields`. */
export function stripManagedFields<T extends KubernetesObject>(obj: T): T {
  if (!obj.metadata?.managedFields) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

export type { AddHandler, DeleteHandler, UpdateHandler } from './resource-informer.js';

/** `start()` rejects with this when `stop()` came before the first list. */
export class InformerStoppedError extends Error {
  override readonly name = 'InformerStoppedError';
}

interface WatchEnd {
  readonly reason: WatchRestartReason;
  readonly livedMs: number;
  readonly error: Error | undefined;
}

const DEFAULTS = {
  resyncMs: 10 * 60_000,
  watchdogMs: 150_000,
  resetAfterMs: 60_000,
  pageSize: 500,
  listTimeoutMs: 60_000,
};

/**
 * Lists and watches one collection, keeps the objects in a cache and tells handlers about
 * every change. Register handlers before `start()`; later ones see only later changes.
 */
export class Informer<T extends KubernetesObject> implements ResourceInformer<T> {
  private readonly cache = new ObjectCache<T>();
  private readonly addHandlers: AddHandler<T>[] = [];
  private readonly updateHandlers: UpdateHandler<T>[] = [];
  private readonly deleteHandlers: DeleteHandler<T>[] = [];
  private readonly resource: string;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly listWatch: ListWatch;
  private readonly random: () => number;
  private readonly transform: (obj: T) => T;
  private readonly settings: typeof DEFAULTS;
  private readonly listBackoff: Backoff;
  private readonly watchBackoff: Backoff;

  /** Where the next watch starts: the last list, event or bookmark. */
  private resourceVersion = '';
  private synced = false;
  private stopped = false;
  private started: Promise<void> | undefined;
  private settleStart: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private loop: Promise<void> | undefined;
  private activeList: AbortController | undefined;
  private activeWatch: (() => void) | undefined;
  private interruptSleep: (() => void) | undefined;
  private cancelResync: CancelTimer | undefined;

  constructor(private readonly options: InformerOptions<T>) {
    this.resource = resourceLabel(options.path);
    this.log = options.logger.child({ informer: this.resource });
    this.clock = options.clock ?? systemClock;
    this.listWatch = options.listWatch ?? new HttpListWatch(options.kubeConfig, options.path);
    this.random = options.random ?? Math.random;
    this.transform = options.transform ?? stripManagedFields;
    this.settings = {
      resyncMs: options.resyncMs ?? DEFAULTS.resyncMs,
      watchdogMs: options.watchdogMs ?? DEFAULTS.watchdogMs,
      resetAfterMs: options.backoff?.resetAfterMs ?? DEFAULTS.resetAfterMs,
      pageSize: options.pageSize ?? DEFAULTS.pageSize,
      listTimeoutMs: options.listTimeoutMs ?? DEFAULTS.listTimeoutMs,
    };
    const policy = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.listBackoff = new Backoff(policy, this.random);
    this.watchBackoff = new Backoff(policy, this.random);
  }

  /** Called for each object that enters the cache. */
  onAdd(handler: AddHandler<T>): this {
    this.addHandlers.push(handler);
    return this;
  }

  /** Called for each change of a cached object, and for every object on each resync. */
  onUpdate(handler: UpdateHandler<T>): this {
    this.updateHandlers.push(handler);
    return this;
  }

  /** Called for each object that leaves the cache (deleted, or no longer matching the selector). */
  onDelete(handler: DeleteHandler<T>): this {
    this.deleteHandlers.push(handler);
    return this;
  }

  /**
   * Starts listing and watching; resolves once the first list is in the cache and its add
   * handlers have run. Lists that fail are retried until `stop()`, which rejects this with
   * InformerStoppedError if it comes first. Calling it again returns the same promise.
   */
  start(): Promise<void> {
    if (this.stopped)
      return Promise.reject(new InformerStoppedError(`informer ${this.resource} was stopped`));
    if (!this.started) {
      this.started = new Promise((resolve, reject) => (this.settleStart = { resolve, reject }));
      this.loop = this.run().catch((err: unknown) => {
        this.log.error('informer loop crashed', { error: message(err) });
        this.settleStart?.reject(err instanceof Error ? err : new Error(message(err)));
      });
    }
    return this.started;
  }

  /** True once the first list is in the cache; stays true through later relists. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Every cached object. They are frozen: writing to one throws. */
  list(): Readonly<T>[] {
    return this.cache.list();
  }

  /** The cached object with key `namespace/name` (`name` for cluster-scoped ones); frozen. */
  get(key: string): Readonly<T> | undefined {
    return this.cache.get(key);
  }

  /** Stops for good: aborts the list or watch in flight and resolves once the loop has ended. */
  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.cancelResync?.();
      this.activeList?.abort();
      this.activeWatch?.();
      this.interruptSleep?.();
      this.settleStart?.reject(
        new InformerStoppedError(`informer ${this.resource} stopped before it synced`),
      );
    }
    await this.loop;
    this.options.metrics?.synced?.set({ resource: this.resource }, 0);
  }

  /** List until one succeeds, then watch; an ended watch resumes, or relists after a 410. */
  private async run(): Promise<void> {
    let mustList = true;
    while (!this.stopped) {
      if (mustList) {
        if (!(await this.listIntoCache())) {
          await this.sleep(this.listBackoff.next());
          continue;
        }
        this.listBackoff.reset();
        mustList = false;
      }
      if (this.stopped) break; // stop() may have come while handlers ran
      const end = await this.watchOnce();
      if (this.stopped) break;
      this.options.metrics?.watchRestarts.inc({ resource: this.resource, reason: end.reason });
      this.logWatchEnd(end);
      mustList = end.reason === 'gone';
      await this.sleep(this.delayAfterWatch(end.livedMs));
    }
  }

  /** Lists everything and replaces the cache, telling handlers the difference. False on failure. */
  private async listIntoCache(): Promise<boolean> {
    try {
      const { items, resourceVersion } = await this.listAll();
      if (this.stopped) return false;
      const changes = this.cache.replace(items);
      this.resourceVersion = resourceVersion;
      this.log.debug('listed', { objects: items.length, changes: changes.length, resourceVersion });
      this.deliver(changes);
      if (this.synced) this.options.metrics?.relists.inc({ resource: this.resource });
      else this.markSynced();
      return true;
    } catch (err) {
      if (!this.stopped) {
        this.log.warn('list failed; retrying with backoff', {
          error: message(err),
          failures: this.listBackoff.failures + 1,
        });
      }
      return false;
    }
  }

  /** All pages of one list; every page is read at the first page's snapshot. */
  private async listAll(): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let resourceVersion = '';
    let token: string | undefined;
    do {
      const page = await this.listPage(token);
      resourceVersion ||= page.resourceVersion;
      for (const item of page.items) items.push(this.transform(withKind(item, page) as T));
      token = page.continue;
    } while (token && !this.stopped);
    return { items, resourceVersion };
  }

  private async listPage(token: string | undefined): Promise<ListPage> {
    const abort = new AbortController();
    this.activeList = abort;
    const cancelTimeout = this.clock.setTimer(() => abort.abort(), this.settings.listTimeoutMs);
    try {
      const query = {
        labelSelector: this.options.labelSelector,
        limit: this.settings.pageSize,
        continue: token,
      };
      return await this.listWatch.list(query, abort.signal);
    } finally {
      cancelTimeout();
      this.activeList = undefined;
    }
  }

  /** One watch from the current resourceVersion; resolves when it has ended, with why. */
  private watchOnce(): Promise<WatchEnd> {
    const startedAt = this.clock.now();
    let lastHeard = startedAt;
    let watchdogFired = false;
    let cancelWatchdog: CancelTimer = () => undefined;
    let handle: WatchHandle | undefined;
    let abortRequested = false;
    const abortWatch = (): void => {
      abortRequested = true;
      handle?.abort();
    };
    return new Promise((resolve) => {
      let ended = false;
      const observer: WatchObserver = {
        event: (event) => {
          if (ended || this.stopped) return;
          lastHeard = this.clock.now();
          this.handleEvent(event, abortWatch);
        },
        closed: (error) => {
          if (ended) return;
          ended = true;
          cancelWatchdog();
          this.activeWatch = undefined;
          const reason = watchdogFired ? 'watchdog' : !error ? 'closed' : isGone(error) ? 'gone' : 'error';
          resolve({ reason, livedMs: this.clock.now() - startedAt, error });
        },
      };
      handle = this.listWatch.watch(this.watchQuery(), observer);
      if (abortRequested) handle.abort();
      if (ended) return;
      this.activeWatch = abortWatch;
      const watchdog = (): void => {
        const silentMs = this.clock.now() - lastHeard;
        if (silentMs < this.settings.watchdogMs) {
          cancelWatchdog = this.clock.setTimer(watchdog, this.settings.watchdogMs - silentMs);
          return;
        }
        watchdogFired = true;
        abortWatch();
      };
      if (this.settings.watchdogMs > 0)
        cancelWatchdog = this.clock.setTimer(watchdog, this.settings.watchdogMs);
    });
  }

  private watchQuery(): WatchQuery {
    return {
      labelSelector: this.options.labelSelector,
      resourceVersion: this.resourceVersion,
      // 5 to 10 minutes, as client-go: the server renews connections, spread so they do not all renew at once.
      timeoutSeconds: 300 + Math.floor(this.random() * 300),
      allowWatchBookmarks: true,
    };
  }

  /** Applies one watch event to the cache; a failure here ends the watch rather than the process. */
  private handleEvent(event: WatchEvent, abortWatch: () => void): void {
    try {
      const resourceVersion = event.object.metadata?.resourceVersion;
      if (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED') {
        const change = this.cache.apply(event.type, this.transform(event.object as T));
        if (change) this.deliver([change]);
        else
          this.log.debug('ignored a watch event older than the cache', { type: event.type, resourceVersion });
      } else if (event.type !== 'BOOKMARK') {
        this.log.warn('ignored a watch event of unknown type', { type: event.type });
        return;
      }
      if (resourceVersion && isNewerOrUnknown(resourceVersion, this.resourceVersion)) {
        this.resourceVersion = resourceVersion;
      }
    } catch (err) {
      this.log.error('could not apply a watch event; restarting the watch', { error: message(err) });
      abortWatch();
    }
  }

  private deliver(changes: readonly CacheChange<T>[]): void {
    for (const change of changes) {
      if (change.type === 'add') for (const h of this.addHandlers) this.call(() => h(change.object));
      if (change.type === 'update')
        for (const h of this.updateHandlers) this.call(() => h(change.old, change.object));
      if (change.type === 'delete') for (const h of this.deleteHandlers) this.call(() => h(change.object));
    }
  }

  /** Runs one handler; whatever it throws or rejects with is logged and goes no further. */
  private call(invoke: () => void | Promise<void>): void {
    const failed = (err: unknown): void => this.log.error('informer handler failed', { error: message(err) });
    try {
      const result = invoke();
      if (result instanceof Promise) result.catch(failed);
    } catch (err) {
      failed(err);
    }
  }

  private markSynced(): void {
    this.synced = true;
    this.options.metrics?.synced?.set({ resource: this.resource }, 1);
    this.settleStart?.resolve();
    this.scheduleResync();
  }

  private scheduleResync(): void {
    if (this.settings.resyncMs <= 0 || this.stopped) return;
    this.cancelResync = this.clock.setTimer(() => {
      if (this.stopped) return;
      for (const obj of this.cache.list()) for (const h of this.updateHandlers) this.call(() => h(obj, obj));
      this.scheduleResync();
    }, this.settings.resyncMs);
  }

  /** No wait after a watch that lived long (a normal server close); backoff after a short one. */
  private delayAfterWatch(livedMs: number): number {
    if (livedMs >= this.settings.resetAfterMs) {
      this.watchBackoff.reset();
      return 0;
    }
    return this.watchBackoff.next();
  }

  private logWatchEnd(end: WatchEnd): void {
    const fields = { resourceVersion: this.resourceVersion, livedMs: end.livedMs, error: end.error?.message };
    if (end.reason === 'closed') this.log.debug('watch closed by the server; resuming', fields);
    else if (end.reason === 'gone') this.log.info('watch history expired (410); relisting', fields);
    else if (end.reason === 'watchdog') this.log.warn('watch silent too long; restarting it', fields);
    else this.log.warn('watch failed; resuming after backoff', fields);
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        cancel();
        this.interruptSleep = undefined;
        resolve();
      };
      const cancel = this.clock.setTimer(wake, ms);
      this.interruptSleep = wake;
    });
  }
}

/** Items of a list carry no apiVersion and kind; give them the list's, as watch events have them. */
function withKind(item: KubernetesObject, page: ListPage): KubernetesObject {
  if (item.apiVersion && item.kind) return item;
  return {
    ...item,
    apiVersion: item.apiVersion ?? page.apiVersion,
    kind: item.kind ?? page.kind?.replace(/List$/, ''),
  };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
