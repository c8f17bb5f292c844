/**
 * The informer against the real control plane: events, selectors, resync, and the faults it
 * exists for (a half-open watch, a stopped apiserver, a 410, an apiserver restart).
 */
import { expect } from 'chai';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { CoreV1Api, KubeConfig, type KubernetesObject, type V1ConfigMap } from '@kubernetes/client-node';
import { Registry, type Counter } from 'prom-client';
import type { ControlPlane } from '../../hack/plane/control-plane.js';
import { HttpListWatch } from '../../controller/kube/http-list-watch.js';
import { Informer, type InformerOptions } from '../../controller/kube/informer.js';
import { informerMetrics, type InformerMetrics } from '../../controller/kube/informer-metrics.js';
import type {
  ListPage,
  ListQuery,
  ListWatch,
  WatchHandle,
  WatchObserver,
  WatchQuery,
} from '../../controller/kube/list-watch.js';
import { silentLogger } from '../../controller/log.js';
import { sharedPlane, uniqueName } from './support/plane.js';

interface FlexPlugin extends KubernetesObject {
  spec?: { type?: string; image?: string };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns something truthy. */
async function eventually<T>(
  what: string,
  probe: () => T | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

async function metricValue(metric: Counter, labels: Record<string, string>): Promise<number> {
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
    .reduce((sum, v) => sum + v.value, 0);
}

/** What the handlers saw, as `add a`, `update a`, `resync a`, `delete a`; the namespace's own kube-* objects left out. */
function record<T extends KubernetesObject>(informer: Informer<T>): string[] {
  const seen: string[] = [];
  const push = (what: string, o: Readonly<T>): void => {
    if (!o.metadata?.name?.startsWith('kube-')) seen.push(`${what} ${o.metadata?.name}`);
  };
  informer
    .onAdd((o) => push('add', o))
    .onUpdate((a, b) => push(a === b ? 'resync' : 'update', b))
    .onDelete((o) => push('delete', o));
  return seen;
}

function names(objects: readonly Readonly<KubernetesObject>[]): string[] {
  return objects
    .map((o) => o.metadata?.name ?? '')
    .filter((n) => !n.startsWith('kube-'))
    .sort();
}

/**
 * A TCP proxy to the apiserver that can turn the connections it holds into black holes: bytes
 * stop flowing both ways and nobody is told, as with a dead NAT entry or a peer that vanished.
 */
class FreezableProxy {
  private readonly server: Server;
  private readonly live = new Set<{ frozen: boolean }>();
  private readonly sockets = new Set<Socket>();

  constructor(private readonly targetPort: number) {
    this.server = createServer((client) => this.pipe(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  /** Black-holes every connection open now; later ones flow normally. Returns how many. */
  freeze(): number {
    for (const pair of this.live) pair.frozen = true;
    return this.live.size;
  }

  get openConnections(): number {
    return this.live.size;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pipe(client: Socket): void {
    const upstream = connect(this.targetPort, '127.0.0.1');
    const pair = { frozen: false };
    this.live.add(pair);
    const forward = (from: Socket, to: Socket): void => {
      this.sockets.add(from);
      from.on('data', (chunk) => {
        if (!pair.frozen) to.write(chunk);
      });
      from.on('close', () => {
        this.sockets.delete(from);
        this.live.delete(pair);
        if (!pair.frozen) to.destroy();
      });
      from.on('error', () => undefined);
    };
    forward(client, upstream);
    forward(upstream, client);
  }
}

/** The plane's admin kubeconfig, with the server swapped for `server`. */
function kubeConfigVia(plane: ControlPlane, server: string): KubeConfig {
  const kc = plane.kubeConfig();
  const via = new KubeConfig();
  via.loadFromOptions({
    clusters: kc.clusters.map((c) => ({ ...c, server })),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.getCurrentContext(),
  });
  return via;
}

/**
 * The real ListWatch with two faults to inject: hold new watches back until released, and
 * send a watch asked to resume from `staleFrom` from resourceVersion 1 instead, long gone from
 * the apiserver's history. An informer that retried that resourceVersion would get 410 forever.
 */
class StaleResumeListWatch implements ListWatch {
  readonly watchQueries: WatchQuery[] = [];
  lists = 0;
  staleFrom: string | undefined;
  private held: Promise<void> | undefined;
  private release: (() => void) | undefined;
  private current: WatchHandle | undefined;

  constructor(private readonly inner: ListWatch) {}

  list(query: ListQuery, signal: AbortSignal): Promise<ListPage> {
    this.lists++;
    return this.inner.list(query, signal);
  }

  watch(query: WatchQuery, observer: WatchObserver): WatchHandle {
    this.watchQueries.push(query);
    const open = (): WatchHandle => {
      const stale = query.resourceVersion === this.staleFrom;
      return (this.current = this.inner.watch(stale ? { ...query, resourceVersion: '1' } : query, observer));
    };
    const held = this.held;
    if (!held) return open();
    let aborted = false;
    void held.then(() => {
      if (!aborted) open();
    });
    return {
      abort: () => {
        aborted = true;
        if (this.current) this.current.abort();
        else observer.closed(new Error('watch aborted'));
      },
    };
  }

  /** Ends the open watch as a dropped connection would, and holds the next one back. */
  dropAndHold(): void {
    this.held = new Promise((resolve) => (this.release = resolve));
    const current = this.current;
    this.current = undefined;
    current?.abort();
  }

  releaseHeld(): void {
    this.held = undefined;
    this.release?.();
  }
}

describe('Informer on the real plane', function () {
  this.timeout(120_000);
  let plane: ControlPlane;
  let core: CoreV1Api;
  let running: { stop(): Promise<void> }[] = [];
  const namespaces: string[] = [];

  before(async () => {
    plane = await sharedPlane();
    core = plane.kubeConfig().makeApiClient(CoreV1Api);
  });

  afterEach(async () => {
    await Promise.all(running.map((i) => i.stop()));
    running = [];
  });

  after(async () => {
    for (const name of namespaces) await core.deleteNamespace({ name }).catch(() => undefined);
  });

  async function namespace(prefix: string): Promise<string> {
    const name = uniqueName(prefix);
    await core.createNamespace({ body: { metadata: { name } } });
    namespaces.push(name);
    return name;
  }

  function informer<T extends KubernetesObject>(
    options: Partial<InformerOptions<T>> & { path: string },
  ): { informer: Informer<T>; metrics: InformerMetrics; seen: string[] } {
    const metrics = informerMetrics(new Registry());
    const inf = new Informer<T>({
      kubeConfig: plane.kubeConfig(),
      logger: silentLogger,
      metrics,
      ...options,
    });
    running.push(inf);
    return { informer: inf, metrics, seen: record(inf) };
  }

  const createCm = (namespace: string, name: string, labels?: Record<string, string>): Promise<V1ConfigMap> =>
    core.createNamespacedConfigMap({ namespace, body: { metadata: { name, labels }, data: { v: '1' } } });

  it('lists what exists, syncs, then reports adds, updates and deletes made with kubectl and client-node', async () => {
    const ns = await namespace('inf-events');
    await createCm(ns, 'a');
    await createCm(ns, 'b');
    const { informer: inf, seen } = informer<V1ConfigMap>({
      path: `/api/v1/namespaces/${ns}/configmaps`,
      pageSize: 1,
    });
    await inf.start();
    expect(inf.hasSynced()).to.equal(true);
    expect(names(inf.list())).to.deep.equal(['a', 'b']);
    expect(inf.get(`${ns}/a`)).to.deep.include({ apiVersion: 'v1', kind: 'ConfigMap', data: { v: '1' } });
    expect(seen).to.have.members(['add a', 'add b']);

    await plane.kubectl(['-n', ns, 'create', 'configmap', 'c', '--from-literal=v=made-by-kubectl']);
    await plane.kubectl(['-n', ns, 'patch', 'configmap', 'a', '-p', '{"data":{"v":"2"}}']);
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'b' });
    await eventually('the three changes', () => seen.length >= 5 && inf.get(`${ns}/b`) === undefined);
    expect(seen.slice(2)).to.deep.equal(['add c', 'update a', 'delete b']);
    expect(inf.get(`${ns}/a`)?.data).to.deep.equal({ v: '2' });
    expect(inf.get(`${ns}/c`)?.data).to.deep.equal({ v: 'made-by-kubectl' });
    expect(names(inf.list())).to.deep.equal(['a', 'c']);
  });

  it('with a labelSelector, holds only matching objects; one that stops matching leaves as a delete', async () => {
    const ns = await namespace('inf-selector');
    await createCm(ns, 'x', { app: 'informer-test' });
    await createCm(ns, 'y');
    const { informer: inf, seen } = informer<V1ConfigMap>({
      path: `/api/v1/namespaces/${ns}/configmaps`,
      labelSelector: 'app=informer-test',
    });
    await inf.start();
    expect(names(inf.list())).to.deep.equal(['x']);

    await plane.kubectl(['-n', ns, 'label', 'configmap', 'y', 'app=informer-test']);
    await plane.kubectl(['-n', ns, 'label', 'configmap', 'x', 'app-']);
    await createCm(ns, 'z');
    await eventually('y in and x out', () => seen.includes('delete x'));
    expect(seen).to.deep.equal(['add x', 'add y', 'delete x']);
    expect(names(inf.list())).to.deep.equal(['y']);
  });

  it('resyncs: every cached object is handed to update handlers again each resyncMs', async () => {
    const ns = await namespace('inf-resync');
    await createCm(ns, 'r1');
    await createCm(ns, 'r2');
    const { informer: inf, seen } = informer<V1ConfigMap>({
      path: `/api/v1/namespaces/${ns}/configmaps`,
      resyncMs: 700,
    });
    const started = Date.now();
    await inf.start();
    await eventually('two resyncs', () => seen.filter((s) => s.startsWith('resync')).length >= 4);
    expect(Date.now() - started).to.be.at.least(1400);
    expect(seen.slice(0, 2)).to.have.members(['add r1', 'add r2']);
    expect(seen.slice(2, 4)).to.have.members(['resync r1', 'resync r2']);
    expect(seen.filter((s) => s.startsWith('update'))).to.deep.equal([]);
  });

  it('watchdog: a half-open watch connection is noticed, and changes made meanwhile arrive', async () => {
    const ns = await namespace('inf-halfopen');
    await createCm(ns, 'pre');
    const proxy = new FreezableProxy(Number(new URL(plane.server).port));
    const port = await proxy.listen();
    try {
      const {
        informer: inf,
        metrics,
        seen,
      } = informer<V1ConfigMap>({
        kubeConfig: kubeConfigVia(plane, `https://127.0.0.1:${port}`),
        path: `/api/v1/namespaces/${ns}/configmaps`,
        watchdogMs: 2_000,
      });
      await inf.start();
      // An event through the watch shows it is open; by then the list's connection is closed.
      await createCm(ns, 'warm-up');
      await eventually('the watch', () => seen.includes('add warm-up'));
      await eventually('only the watch connection open', () => proxy.openConnections === 1);
      expect(proxy.freeze()).to.equal(1);

      await createCm(ns, 'during-stall');
      await core.deleteNamespacedConfigMap({ namespace: ns, name: 'pre' });
      await eventually('the changes made while the connection was a black hole', () =>
        seen.includes('delete pre'),
      );
      expect(seen.slice(0, 2)).to.deep.equal(['add pre', 'add warm-up']);
      expect(seen.slice(2)).to.have.members(['add during-stall', 'delete pre']);
      expect(names(inf.list())).to.deep.equal(['during-stall', 'warm-up']);
      expect(await metricValue(metrics.watchRestarts, { reason: 'watchdog' })).to.be.at.least(1);
    } finally {
      await proxy.close();
    }
  });

  it('watchdog: a stopped apiserver is noticed; the informer catches up once it runs again', async () => {
    const ns = await namespace('inf-sigstop');
    const {
      informer: inf,
      metrics,
      seen,
    } = informer<V1ConfigMap>({
      path: `/api/v1/namespaces/${ns}/configmaps`,
      watchdogMs: 3_000,
    });
    await inf.start();
    await createCm(ns, 'before-stop');
    await eventually('before-stop', () => seen.includes('add before-stop'));
    expect(await metricValue(metrics.watchRestarts, { reason: 'watchdog' })).to.equal(0);

    const pid = plane.component('kube-apiserver')?.pid;
    expect(pid).to.be.a('number');
    process.kill(pid!, 'SIGSTOP');
    try {
      await sleep(4_500);
      expect(await metricValue(metrics.watchRestarts, { reason: 'watchdog' })).to.be.at.least(1);
    } finally {
      process.kill(pid!, 'SIGCONT');
    }
    await createCm(ns, 'after-stop');
    await eventually('after-stop', () => seen.includes('add after-stop'));
    expect(names(inf.list())).to.deep.equal(['after-stop', 'before-stop']);
  });

  it('410: a watch from a resourceVersion the apiserver no longer has relists, and the cache is right', async () => {
    const ns = await namespace('inf-gone');
    const plugin = (name: string, image: string): string =>
      `{"apiVersion":"flexcore.io/v1alpha1","kind":"FlexPlugin","metadata":{"name":"${name}"},"spec":{"type":"tap","image":"${image}"}}`;
    for (const n of ['p1', 'p2', 'p3'])
      await plane.kubectl(['-n', ns, 'apply', '-f', '-'], plugin(n, 'example.com/t:1'));
    const path = `/apis/flexcore.io/v1alpha1/namespaces/${ns}/flexplugins`;
    const faults = new StaleResumeListWatch(new HttpListWatch(plane.kubeConfig(), path));
    const { informer: inf, metrics, seen } = informer<FlexPlugin>({ path, listWatch: faults });
    await inf.start();
    expect(names(inf.list())).to.deep.equal(['p1', 'p2', 'p3']);
    await eventually('the first watch', () => faults.watchQueries.length === 1);

    faults.dropAndHold();
    await eventually('the informer resuming', () => faults.watchQueries.length === 2);
    faults.staleFrom = faults.watchQueries[1]!.resourceVersion;
    // Changes while the informer has no watch: only a relist can bring them.
    await plane.kubectl(['-n', ns, 'delete', 'flexplugin', 'p1']);
    await plane.kubectl(['-n', ns, 'apply', '-f', '-'], plugin('p2', 'example.com/t:2'));
    await plane.kubectl(['-n', ns, 'apply', '-f', '-'], plugin('p4', 'example.com/t:1'));
    faults.releaseHeld();

    await eventually('the relist', () => seen.includes('add p4'), 30_000);
    expect(seen.slice(3)).to.have.members(['delete p1', 'update p2', 'add p4']);
    expect(names(inf.list())).to.deep.equal(['p2', 'p3', 'p4']);
    expect(inf.get(`${ns}/p2`)?.spec?.image).to.equal('example.com/t:2');
    expect(faults.lists).to.equal(2);
    expect(await metricValue(metrics.watchRestarts, { reason: 'gone' })).to.equal(1);
    expect(await metricValue(metrics.relists, {})).to.equal(1);
    await eventually('a watch from the new list', () => faults.watchQueries.length === 3);
    expect(faults.watchQueries[2]!.resourceVersion).to.not.equal(faults.staleFrom);
  });

  it('kube-apiserver restarted: the informer recovers and sees changes made after', async () => {
    const ns = await namespace('inf-restart');
    await createCm(ns, 'pre');
    const { informer: inf, seen } = informer<V1ConfigMap>({ path: `/api/v1/namespaces/${ns}/configmaps` });
    await inf.start();
    await plane.restart('kube-apiserver', { downMs: 1_000 });

    await createCm(ns, 'after-restart');
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'pre' });
    await eventually('the changes after the restart', () => seen.includes('delete pre'), 60_000);
    // Order depends on the path back: a resumed watch, or a relist (deletes first) after a 410.
    expect(seen[0]).to.equal('add pre');
    expect(seen.slice(1)).to.have.members(['add after-restart', 'delete pre']);
    const truth = await core.listNamespacedConfigMap({ namespace: ns });
    expect(names(inf.list())).to.deep.equal(names(truth.items)).and.to.deep.equal(['after-restart']);
  });
});
