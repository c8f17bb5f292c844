/**
 * The informer's list/watch loop against an in-memory apiserver and a hand-driven clock: every
 * fault path (ended watch, error, 410, silent watch, failing lists) without real time or network.
 */
import { expect } from 'chai';
import { KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { Registry, type Counter, type Gauge } from 'prom-client';
import { ApiStatusError } from '../../controller/kube/api-status-error.js';
import { Informer, InformerStoppedError, type InformerOptions } from '../../controller/kube/informer.js';
import { informerMetrics, type InformerMetrics } from '../../controller/kube/informer-metrics.js';
import type {
  ListPage,
  ListQuery,
  ListWatch,
  WatchHandle,
  WatchObserver,
  WatchQuery,
} from '../../controller/kube/list-watch.js';
import type { LogFields, Logger } from '../../controller/log.js';
import { FakeClock, settle } from './support/fake-clock.js';

class FakeWatch {
  open = true;
  constructor(
    readonly query: WatchQuery,
    private readonly observer: WatchObserver,
  ) {}

  send(type: string, object: V1ConfigMap): void {
    if (this.open) this.observer.event({ type, object });
  }

  end(error?: Error): void {
    if (!this.open) return;
    this.open = false;
    this.observer.closed(error);
  }
}

/** An apiserver in memory: objects with a revision counter, paged lists, and watches the test drives. */
class FakeApi implements ListWatch {
  revision = 100;
  failNextLists = 0;
  readonly objects = new Map<string, V1ConfigMap>();
  readonly lists: ListQuery[] = [];
  readonly watches: FakeWatch[] = [];

  async list(query: ListQuery): Promise<ListPage> {
    this.lists.push(query);
    await Promise.resolve();
    if (this.failNextLists > 0) {
      this.failNextLists--;
      throw new Error('connect ECONNREFUSED 127.0.0.1:6443');
    }
    // Items of a real list carry no apiVersion and kind.
    const all = [...this.objects.values()]
      .sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!))
      .map(({ metadata, data }) => ({ metadata, data }));
    const start = Number(query.continue ?? 0);
    const end = start + query.limit;
    return {
      apiVersion: 'v1',
      kind: 'ConfigMapList',
      items: all.slice(start, end),
      resourceVersion: String(this.revision),
      continue: end < all.length ? String(end) : undefined,
    };
  }

  watch(query: WatchQuery, observer: WatchObserver): WatchHandle {
    const w = new FakeWatch(query, observer);
    this.watches.push(w);
    return { abort: () => w.end(new Error('watch aborted')) };
  }

  get current(): FakeWatch {
    const w = this.watches.at(-1);
    if (!w?.open) throw new Error('no open watch');
    return w;
  }

  /** Creates or changes an object; `notify: false` is a change the informer's watch misses. */
  put(name: string, data: Record<string, string> = {}, notify = true): V1ConfigMap {
    const type = this.objects.has(name) ? 'MODIFIED' : 'ADDED';
    const obj = cm(name, String(++this.revision), data);
    this.objects.set(name, obj);
    if (notify) this.watches.at(-1)?.send(type, obj);
    return obj;
  }

  remove(name: string, notify = true): void {
    const obj = this.objects.get(name)!;
    this.objects.delete(name);
    const gone = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.revision) } };
    if (notify) this.watches.at(-1)?.send('DELETED', gone);
  }
}

function cm(name: string, resourceVersion: string, data: Record<string, string> = {}): V1ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns', resourceVersion }, data };
}

class RecordingLogger implements Logger {
  readonly lines: { level: string; message: string; fields?: LogFields }[] = [];
  debug(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'debug', message, fields });
  }
  info(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'info', message, fields });
  }
  warn(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'warn', message, fields });
  }
  error(message: string, fields?: LogFields): void {
    this.lines.push({ level: 'error', message, fields });
  }
  child(): Logger {
    return this;
  }
  messages(level: string): string[] {
    return this.lines.filter((l) => l.level === level).map((l) => l.message);
  }
}

async function metricValue(metric: Counter | Gauge, labels: Record<string, string>): Promise<number> {
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
    .reduce((sum, v) => sum + v.value, 0);
}

describe('informer loop', () => {
  let running: Informer<V1ConfigMap>[] = [];
  afterEach(async () => {
    await Promise.all(running.map((i) => i.stop()));
    running = [];
  });

  function setup(options: Partial<InformerOptions> = {}): {
    api: FakeApi;
    clock: FakeClock;
    logger: RecordingLogger;
    metrics: InformerMetrics;
    informer: Informer<V1ConfigMap>;
    /** start(), then let the loop open its first watch. */
    start: () => Promise<void>;
    seen: string[];
    advance: (ms: number) => Promise<void>;
  } {
    const api = new FakeApi();
    const clock = new FakeClock();
    const logger = new RecordingLogger();
    const metrics = informerMetrics(new Registry());
    const informer = new Informer<V1ConfigMap>({
      kubeConfig: new KubeConfig(),
      path: '/api/v1/namespaces/ns/configmaps',
      logger,
      clock,
      metrics,
      listWatch: api,
      random: () => 0,
      ...options,
    });
    running.push(informer);
    const seen: string[] = [];
    const rv = (o: V1ConfigMap): string => `${o.metadata?.name}@${o.metadata?.resourceVersion}`;
    informer
      .onAdd((o) => void seen.push(`add ${rv(o)}`))
      .onUpdate((a, b) => void seen.push(`update ${rv(a)} -> ${rv(b)}`))
      .onDelete((o) => void seen.push(`delete ${rv(o)}`));
    const advance = async (ms: number): Promise<void> => {
      await settle(); // timers the loop is about to set are set before time moves
      clock.advance(ms);
      await settle();
    };
    const start = async (): Promise<void> => {
      await informer.start();
      await settle();
    };
    return { api, clock, logger, metrics, informer, start, seen, advance };
  }

  it('lists page by page, delivers adds, resolves start, then watches from the list version', async () => {
    const { api, metrics, informer, seen } = setup({ pageSize: 2, labelSelector: 'app=x' });
    for (const n of ['a', 'b', 'c', 'd', 'e']) api.put(n, {}, false);
    let synced = false;
    const started = informer.start().then(() => (synced = true));
    expect(informer.hasSynced()).to.equal(false);
    await started;
    expect(synced).to.equal(true);
    expect(api.lists.map((q) => [q.limit, q.continue, q.labelSelector])).to.deep.equal([
      [2, undefined, 'app=x'],
      [2, '2', 'app=x'],
      [2, '4', 'app=x'],
    ]);
    expect(seen).to.deep.equal(['add a@101', 'add b@102', 'add c@103', 'add d@104', 'add e@105']);
    expect(informer.hasSynced()).to.equal(true);
    expect(informer.list()).to.have.length(5);
    expect(informer.get('ns/c')).to.include({ apiVersion: 'v1', kind: 'ConfigMap' });
    await settle();
    expect(api.watches).to.have.length(1);
    expect(api.current.query).to.deep.equal({
      labelSelector: 'app=x',
      resourceVersion: '105',
      timeoutSeconds: 300,
      allowWatchBookmarks: true,
    });
    expect(await metricValue(metrics.synced, { resource: 'configmaps' })).to.equal(1);
  });

  it('applies watch events to the cache and handlers, and ignores events older than the cache', async () => {
    const { api, informer, start, seen } = setup();
    await start();
    api.put('a', { v: '1' });
    api.put('a', { v: '2' });
    api.current.send('MODIFIED', cm('a', '101', { v: 'stale' }));
    api.current.send('MODIFIED', cm('a', '102', { v: 'duplicate' }));
    expect(informer.get('ns/a')?.data).to.deep.equal({ v: '2' });
    api.remove('a');
    expect(seen).to.deep.equal(['add a@101', 'update a@101 -> a@102', 'delete a@103']);
    expect(informer.get('ns/a')).to.equal(undefined);
  });

  it('resumes from a bookmark, without relisting, as soon as a long-lived watch is closed by the server', async () => {
    const { api, metrics, start, seen, advance } = setup();
    await start();
    await advance(61_000);
    api.current.send('BOOKMARK', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { resourceVersion: '500' },
    });
    api.current.end();
    await settle();
    expect(api.watches).to.have.length(2);
    expect(api.current.query.resourceVersion).to.equal('500');
    expect(api.lists).to.have.length(1);
    expect(seen).to.deep.equal([]);
    expect(await metricValue(metrics.watchRestarts, { reason: 'closed' })).to.equal(1);
  });

  it('backs off watches that end at once (never a hot loop) and resets after one that lived', async () => {
    const { api, start, advance } = setup();
    await start();
    api.put('b');
    for (const delay of [800, 1600, 3200]) {
      const before = api.watches.length;
      api.current.end();
      await advance(delay - 1);
      expect(api.watches, `still waiting after ${delay - 1} ms`).to.have.length(before);
      await advance(1);
      expect(api.watches, `watching again after ${delay} ms`).to.have.length(before + 1);
      expect(api.current.query.resourceVersion).to.equal('101');
    }
    await advance(60_000);
    api.current.end();
    await settle();
    expect(api.watches).to.have.length(5);
    api.current.end();
    await advance(799);
    expect(api.watches, 'backoff starts over at 800 ms').to.have.length(5);
    await advance(1);
    expect(api.watches).to.have.length(6);
    expect(api.lists).to.have.length(1);
  });

  it('resumes from the last resourceVersion after a watch error, with backoff', async () => {
    const { api, metrics, logger, start, seen, advance } = setup();
    await start();
    api.put('a');
    api.current.end(new Error('read ECONNRESET'));
    api.put('b', {}, false);
    await advance(800);
    expect(api.watches).to.have.length(2);
    expect(api.current.query.resourceVersion).to.equal('101');
    api.current.send('ADDED', api.objects.get('b')!);
    expect(seen).to.deep.equal(['add a@101', 'add b@102']);
    expect(api.lists).to.have.length(1);
    expect(await metricValue(metrics.watchRestarts, { reason: 'error' })).to.equal(1);
    expect(logger.lines.find((l) => l.message.startsWith('watch failed'))?.fields).to.include({
      error: 'read ECONNRESET',
    });
  });

  it('relists on 410, emits the difference, and watches from the new list', async () => {
    const { api, metrics, informer, start, seen, advance } = setup();
    for (const n of ['a', 'b', 'c']) api.put(n, {}, false);
    await start();
    seen.length = 0;
    // Changes the informer's watch never reported: its history is gone.
    api.remove('b', false);
    api.put('c', { v: '2' }, false);
    api.put('d', {}, false);
    api.current.end(new ApiStatusError(410, 'Expired', 'too old resource version: 103 (200)'));
    await advance(800);
    expect(api.lists).to.have.length(2);
    expect(seen).to.deep.equal(['delete b@102', 'update c@103 -> c@105', 'add d@106']);
    expect(informer.list().map((o) => o.metadata?.name)).to.have.members(['a', 'c', 'd']);
    expect(api.current.query.resourceVersion).to.equal('106');
    expect(await metricValue(metrics.relists, { resource: 'configmaps' })).to.equal(1);
    expect(await metricValue(metrics.watchRestarts, { reason: 'gone' })).to.equal(1);
  });

  it('backs off when every watch after a relist fails with 410 again', async () => {
    const { api, start, advance } = setup();
    await start();
    const gone = (): void => api.current.end(new ApiStatusError(410, 'Gone', 'gone'));
    gone();
    await advance(800);
    expect(api.lists).to.have.length(2);
    gone();
    await advance(1599);
    expect(api.lists).to.have.length(2);
    await advance(1);
    expect(api.lists).to.have.length(3);
  });

  it('retries failed lists with backoff until one succeeds; start waits for it', async () => {
    const { api, logger, informer, seen, advance } = setup();
    api.put('a', {}, false);
    api.failNextLists = 3;
    let synced = false;
    const started = informer.start().then(() => (synced = true));
    await settle();
    for (const delay of [800, 1600, 3200]) {
      expect(synced).to.equal(false);
      await advance(delay);
    }
    await started;
    expect(api.lists).to.have.length(4);
    expect(seen).to.deep.equal(['add a@101']);
    expect(logger.messages('warn').filter((m) => m.startsWith('list failed'))).to.have.length(3);
  });

  it('stop before the first list rejects start and ends the retries', async () => {
    const { api, clock, informer, advance } = setup();
    api.failNextLists = 1_000;
    const started = informer.start();
    await advance(800);
    await informer.stop();
    const err = await started.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(InformerStoppedError);
    const lists = api.lists.length;
    await advance(10 * 60_000);
    expect(api.lists).to.have.length(lists);
    expect(clock.pendingTimers()).to.equal(0);
  });

  it('aborts a watch that has been silent for watchdogMs, and events keep it alive', async () => {
    const { api, metrics, logger, start, seen, advance } = setup({ watchdogMs: 10_000 });
    await start();
    await advance(6_000);
    api.put('a');
    await advance(6_000);
    expect(api.watches[0]!.open, '6 s after the last event').to.equal(true);
    await advance(3_999);
    expect(api.watches[0]!.open).to.equal(true);
    await advance(1);
    expect(api.watches[0]!.open, '10 s after the last event').to.equal(false);
    api.put('b', {}, false);
    await advance(800);
    expect(api.watches).to.have.length(2);
    expect(api.current.query.resourceVersion).to.equal('101');
    api.current.send('ADDED', api.objects.get('b')!);
    expect(seen).to.deep.equal(['add a@101', 'add b@102']);
    expect(await metricValue(metrics.watchRestarts, { reason: 'watchdog' })).to.equal(1);
    expect(logger.messages('warn')).to.include('watch silent too long; restarting it');
  });

  it('leaves a silent watch alone when the watchdog is off', async () => {
    const { api, start, advance } = setup({ watchdogMs: 0 });
    await start();
    await advance(60 * 60_000);
    expect(api.watches).to.have.length(1);
    expect(api.watches[0]!.open).to.equal(true);
  });

  it('resyncs: every cached object goes to the update handlers as (obj, obj) each resyncMs', async () => {
    const { api, start, seen, advance } = setup({ resyncMs: 30_000, watchdogMs: 0 });
    api.put('a', {}, false);
    api.put('b', {}, false);
    await start();
    seen.length = 0;
    await advance(29_999);
    expect(seen).to.deep.equal([]);
    await advance(1);
    expect(seen).to.deep.equal(['update a@101 -> a@101', 'update b@102 -> b@102']);
    await advance(30_000);
    expect(seen).to.have.length(4);
  });

  it('never resyncs when resyncMs is 0', async () => {
    const { api, start, seen, advance } = setup({ resyncMs: 0, watchdogMs: 0 });
    api.put('a', {}, false);
    await start();
    await advance(60 * 60_000);
    expect(seen).to.deep.equal(['add a@101']);
  });

  it('logs a handler that throws, rejects or writes to a frozen object; the others still run', async () => {
    const { api, logger, informer, start, seen } = setup();
    informer.onAdd((o) => {
      if (o.metadata?.name === 'a') throw new Error('handler bug');
    });
    informer.onAdd(async (o) => {
      await Promise.resolve();
      if (o.metadata?.name === 'b') throw new Error('async handler bug');
    });
    informer.onAdd((o) => {
      (o.data as Record<string, string>).k = 'mutated';
    });
    await start();
    api.put('a', { k: 'v' });
    api.put('b', { k: 'v' });
    await settle();
    api.put('c', { k: 'v' });
    expect(seen).to.deep.equal(['add a@101', 'add b@102', 'add c@103']);
    expect(informer.get('ns/c')?.data).to.deep.equal({ k: 'v' });
    const errors = logger.lines
      .filter((l) => l.message === 'informer handler failed')
      .map((l) => l.fields?.error);
    expect(errors).to.include('handler bug');
    expect(errors).to.include('async handler bug');
    expect(errors.filter((e) => String(e).includes('read only'))).to.have.length(3);
  });

  it('stop aborts the watch, ends the loop, and clears the synced gauge', async () => {
    const { api, clock, metrics, informer, start, advance } = setup();
    await start();
    await informer.stop();
    expect(api.watches[0]!.open).to.equal(false);
    await advance(10 * 60_000);
    expect(api.watches).to.have.length(1);
    expect(clock.pendingTimers()).to.equal(0);
    expect(await metricValue(metrics.synced, { resource: 'configmaps' })).to.equal(0);
    expect(await metricValue(metrics.watchRestarts, {})).to.equal(0);
    const again = await informer.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(again).to.be.instanceOf(InformerStoppedError);
  });

  it('opens no watch when stop comes while the first list is being delivered', async () => {
    const { api, clock, informer } = setup();
    api.put('a', {}, false);
    informer.onAdd(() => void informer.stop());
    const err = await informer.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(InformerStoppedError);
    await informer.stop();
    expect(api.watches).to.have.length(0);
    expect(clock.pendingTimers()).to.equal(0);
  });
  it('caches objects without managedFields by default, or as a given transform trims them, from lists and watches', async () => {
    const managed = (o: V1ConfigMap): V1ConfigMap => ({
      ...o,
      metadata: { ...o.metadata, managedFields: [{ manager: 'kubectl', operation: 'Apply' }] },
    });
    const listed = managed(cm('a', '1', { k: 'v' }));
    for (const transform of [
      undefined,
      (o: V1ConfigMap): V1ConfigMap => ({ ...o, data: { trimmed: 'yes' } }),
    ]) {
      const { api, informer, start } = setup(transform ? { transform } : {});
      api.objects.set('a', listed);
      await start();
      api.current.send('ADDED', managed(cm('b', '200', { k: 'v' })));
      for (const name of ['a', 'b']) {
        const cached = informer.get(`ns/${name}`)!;
        if (transform) expect(cached.data, name).to.deep.equal({ trimmed: 'yes' });
        else {
          expect(cached.metadata, name).to.not.have.property('managedFields');
          expect(cached.data, name).to.deep.equal({ k: 'v' });
        }
      }
    }
  });
});
