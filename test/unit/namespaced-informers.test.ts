/**
 * NamespacedInformers: one informer per namespace used as one, against in-memory namespaces whose
 * first list the test releases one at a time; and informerFor's choice of a plain Informer.
 */
import { expect } from 'chai';
import { KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { Registry } from 'prom-client';
import { Informer } from '../../controller/kube/informer.js';
import { informerMetrics } from '../../controller/kube/informer-metrics.js';
import type { ListPage, ListWatch, WatchHandle, WatchObserver } from '../../controller/kube/list-watch.js';
import { NamespacedInformers, informerFor } from '../../controller/kube/namespaced-informers.js';
import { silentLogger } from '../../controller/log.js';
import { FakeClock, settle } from './support/fake-clock.js';
import { sample } from './support/metrics.js';

/** One namespace of an in-memory apiserver: its first list waits until `release()`. */
class FakeNamespace implements ListWatch {
  private releaseList: () => void = () => undefined;
  private readonly released = new Promise<void>((resolve) => (this.releaseList = resolve));
  readonly observers: WatchObserver[] = [];

  constructor(
    readonly namespace: string,
    readonly names: readonly string[],
  ) {}

  release(): void {
    this.releaseList();
  }

  async list(_query: unknown, signal: AbortSignal): Promise<ListPage> {
    const aborted = new Promise<never>((_, reject) =>
      signal.addEventListener('abort', () => reject(new Error('list aborted'))),
    );
    await Promise.race([this.released, aborted]);
    return {
      apiVersion: 'v1',
      kind: 'ConfigMapList',
      items: this.names.map((n) => cm(this.namespace, n, '10')),
      resourceVersion: '10',
    };
  }

  watch(_query: unknown, observer: WatchObserver): WatchHandle {
    this.observers.push(observer);
    let open = true;
    return {
      abort: () => {
        if (open) observer.closed(new Error('watch aborted'));
        open = false;
      },
    };
  }

  /** A watch event on the namespace's open watch. */
  send(type: string, name: string, resourceVersion: string): void {
    this.observers.at(-1)!.event({ type, object: cm(this.namespace, name, resourceVersion) });
  }
}

function cm(namespace: string, name: string, resourceVersion: string): V1ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, resourceVersion } };
}

const path = (ns?: string): string => (ns ? `/api/v1/namespaces/${ns}/configmaps` : '/api/v1/configmaps');

describe('namespaced informers', () => {
  let running: { stop(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(running.map((i) => i.stop()));
    running = [];
  });

  function setup(namespaces: string[]): {
    fakes: Map<string, FakeNamespace>;
    registry: Registry;
    informers: NamespacedInformers<V1ConfigMap>;
    seen: string[];
  } {
    const fakes = new Map(namespaces.map((ns) => [ns, new FakeNamespace(ns, ['x', `only-${ns}`])]));
    const registry = new Registry();
    const informers = new NamespacedInformers<V1ConfigMap>({
      kubeConfig: new KubeConfig(),
      namespaces,
      path,
      listWatch: (ns) => fakes.get(ns!)!,
      logger: silentLogger,
      clock: new FakeClock(),
      metrics: informerMetrics(registry),
      random: () => 0,
    });
    running.push(informers);
    const seen: string[] = [];
    const key = (o: V1ConfigMap): string => `${o.metadata?.namespace}/${o.metadata?.name}`;
    informers
      .onAdd((o) => void seen.push(`add ${key(o)}`))
      .onUpdate((_, o) => void seen.push(`update ${key(o)}`))
      .onDelete((o) => void seen.push(`delete ${key(o)}`));
    return { fakes, registry, informers, seen };
  }

  const synced = (registry: Registry): Promise<number | undefined> =>
    sample(registry, 'flexcore_informer_synced', { resource: 'configmaps' });

  it('starts synced only when every namespace is, and so does the synced gauge', async () => {
    const { fakes, registry, informers } = setup(['a', 'b']);
    let started = false;
    const start = informers.start().then(() => (started = true));
    fakes.get('a')!.release();
    await settle();
    expect(informers.hasSynced()).to.equal(false);
    expect(started).to.equal(false);
    // One namespace synced must not say the resource is.
    expect(await synced(registry)).to.not.equal(1);
    fakes.get('b')!.release();
    await start;
    expect(informers.hasSynced()).to.equal(true);
    expect(await synced(registry)).to.equal(1);
    expect(informers.start()).to.equal(informers.start());
    await informers.stop();
    expect(await synced(registry)).to.equal(0);
  });

  it('delivers every namespace to the handlers, lists all caches and routes get by namespace', async () => {
    const { fakes, informers, seen } = setup(['a', 'b']);
    for (const f of fakes.values()) f.release();
    await informers.start();
    await settle();
    expect([...seen].sort()).to.deep.equal(['add a/only-a', 'add a/x', 'add b/only-b', 'add b/x']);
    expect(
      informers
        .list()
        .map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`)
        .sort(),
    ).to.deep.equal(['a/only-a', 'a/x', 'b/only-b', 'b/x']);
    expect(informers.get('a/x')?.metadata?.namespace).to.equal('a');
    expect(informers.get('b/x')?.metadata?.namespace).to.equal('b');
    expect(informers.get('b/only-b')).to.not.equal(undefined);
    expect(informers.get('a/only-b')).to.equal(undefined);
    expect(informers.get('c/x')).to.equal(undefined);
    expect(informers.get('x')).to.equal(undefined);

    seen.length = 0;
    fakes.get('b')!.send('MODIFIED', 'x', '11');
    fakes.get('a')!.send('DELETED', 'only-a', '12');
    expect(seen).to.deep.equal(['update b/x', 'delete a/only-a']);
    expect(informers.get('a/only-a')).to.equal(undefined);
  });

  it('counts restarts of every namespace under the one resource label', async () => {
    const { fakes, registry, informers } = setup(['a', 'b']);
    for (const f of fakes.values()) f.release();
    await informers.start();
    await settle();
    for (const f of fakes.values()) f.observers.at(-1)!.closed(undefined);
    await settle();
    expect(
      await sample(registry, 'flexcore_informer_watch_restarts_total', {
        resource: 'configmaps',
        reason: 'closed',
      }),
    ).to.equal(2);
  });

  it('watches a namespace named twice once, and refuses an empty list', () => {
    const { informers } = setup(['a', 'b', 'a']);
    expect(informers.namespaces).to.deep.equal(['a', 'b']);
    expect(
      () =>
        new NamespacedInformers<V1ConfigMap>({
          kubeConfig: new KubeConfig(),
          namespaces: [],
          path,
          logger: silentLogger,
        }),
    ).to.throw(/at least one namespace/);
  });

  it('rejects start when stopped before every namespace synced', async () => {
    const { fakes, registry, informers } = setup(['a', 'b']);
    const start = informers.start();
    fakes.get('a')!.release();
    await settle();
    await informers.stop();
    const err = await start.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.name).to.equal('InformerStoppedError');
    expect(await synced(registry)).to.equal(0);
    expect((await informers.start().catch((e: unknown) => e as Error))?.name).to.equal(
      'InformerStoppedError',
    );
  });

  describe('informerFor', () => {
    const options = {
      kubeConfig: new KubeConfig(),
      path,
      logger: silentLogger,
    };

    it('is a plain Informer of the cluster-wide collection for all namespaces, or of one namespace', () => {
      const seen: (string | undefined)[] = [];
      const listWatch = (ns?: string): ListWatch => {
        seen.push(ns);
        return new FakeNamespace(ns ?? '', []);
      };
      expect(informerFor<V1ConfigMap>({ ...options, namespaces: [], listWatch })).to.be.instanceOf(Informer);
      expect(informerFor<V1ConfigMap>({ ...options, namespaces: ['a'], listWatch })).to.be.instanceOf(
        Informer,
      );
      expect(informerFor<V1ConfigMap>({ ...options, namespaces: ['a', 'a'], listWatch })).to.be.instanceOf(
        Informer,
      );
      expect(seen).to.deep.equal([undefined, 'a', 'a']);
    });

    it('is NamespacedInformers for several', () => {
      const several = informerFor<V1ConfigMap>({ ...options, namespaces: ['a', 'b'] });
      expect(several).to.be.instanceOf(NamespacedInformers);
      expect((several as NamespacedInformers<V1ConfigMap>).namespaces).to.deep.equal(['a', 'b']);
    });
  });
});
