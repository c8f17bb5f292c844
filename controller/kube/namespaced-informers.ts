/**
 * One informer per watched namespace behind the surface of one informer, for a controller that
 * watches several namespaces but may not list or watch cluster-wide (a Role per namespace, as
 * controller-runtime's multi-namespace cache). `informerFor` picks a plain Informer for one
 * namespace or all of them.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { resourceLabel, type SharedInformerMetrics } from './informer-metrics.js';
import { Informer, InformerStoppedError, type InformerOptions } from './informer.js';
import type { ListWatch } from './list-watch.js';
import { splitObjectKey } from './object-key.js';
import type { AddHandler, DeleteHandler, ResourceInformer, UpdateHandler } from './resource-informer.js';

export interface NamespacedInformersOptions<T extends KubernetesObject> extends Omit<
  InformerOptions<T>,
  'path' | 'listWatch'
> {
  /** The namespaces to watch; duplicates count once. */
  readonly namespaces: readonly string[];
  /** The collection in one namespace (`/api/v1/namespaces/${ns}/pods`), or in all when `namespace` is undefined. */
  readonly path: (namespace?: string) => string;
  /** The transport of one namespace's informer (all namespaces' when undefined); HttpListWatch by default. A seam for tests. */
  readonly listWatch?: (namespace?: string) => ListWatch;
}

/**
 * An informer per namespace, used as one: handlers go to each, `start()` resolves when all have
 * synced, `list()` joins the caches, `get(key)` asks the informer of the key's namespace. The
 * `flexcore_informer_synced` gauge of the resource is 1 only while every namespace is synced.
 */
export class NamespacedInformers<T extends KubernetesObject> implements ResourceInformer<T> {
  private readonly informers = new Map<string, Informer<T>>();
  private readonly resource: string;
  private started: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: NamespacedInformersOptions<T>) {
    const { namespaces, path, listWatch, metrics, logger, ...common } = options;
    if (namespaces.length === 0) throw new TypeError('NamespacedInformers needs at least one namespace');
    this.resource = resourceLabel(path(namespaces[0]));
    // Restarts and relists add up under the shared `resource` label; `synced` is set here only.
    const shared: SharedInformerMetrics | undefined = metrics && {
      watchRestarts: metrics.watchRestarts,
      relists: metrics.relists,
    };
    for (const namespace of new Set(namespaces)) {
      const informer = new Informer<T>({
        ...common,
        path: path(namespace),
        listWatch: listWatch?.(namespace),
        metrics: shared,
        logger: logger.child({ namespace }),
      });
      this.informers.set(namespace, informer);
    }
  }

  /** The watched namespaces, without duplicates. */
  get namespaces(): string[] {
    return [...this.informers.keys()];
  }

  onAdd(handler: AddHandler<T>): this {
    for (const i of this.informers.values()) i.onAdd(handler);
    return this;
  }

  onUpdate(handler: UpdateHandler<T>): this {
    for (const i of this.informers.values()) i.onUpdate(handler);
    return this;
  }

  onDelete(handler: DeleteHandler<T>): this {
    for (const i of this.informers.values()) i.onDelete(handler);
    return this;
  }

  /** Starts every informer; resolves once all have synced. Calling it again returns the same promise. */
  start(): Promise<void> {
    if (this.stopped)
      return Promise.reject(new InformerStoppedError(`informers ${this.resource} were stopped`));
    this.started ??= Promise.all([...this.informers.values()].map((i) => i.start())).then(() => {
      if (!this.stopped) this.options.metrics?.synced?.set({ resource: this.resource }, 1);
    });
    return this.started;
  }

  /** True once every namespace's first list is in its cache. */
  hasSynced(): boolean {
    return [...this.informers.values()].every((i) => i.hasSynced());
  }

  /** Every cached object of every namespace; frozen. */
  list(): Readonly<T>[] {
    return [...this.informers.values()].flatMap((i) => i.list());
  }

  /** The cached object with key `namespace/name`; undefined for a namespace not watched. */
  get(key: string): Readonly<T> | undefined {
    const { namespace } = splitObjectKey(key);
    return namespace === undefined ? undefined : this.informers.get(namespace)?.get(key);
  }

  /** Stops every informer; resolves once all their loops have ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    this.options.metrics?.synced?.set({ resource: this.resource }, 0);
  }
}

/**
 * The informer of a collection in `namespaces`: a plain Informer of the cluster-wide collection
 * when the list is empty (all namespaces), of the namespace's collection for one, and
 * NamespacedInformers for several.
 */
export function informerFor<T extends KubernetesObject>(
  options: NamespacedInformersOptions<T>,
): ResourceInformer<T> {
  const { namespaces, path, listWatch, ...common } = options;
  const distinct = [...new Set(namespaces)];
  if (distinct.length > 1) return new NamespacedInformers(options);
  const namespace = distinct[0];
  return new Informer<T>({
    ...common,
    path: path(namespace),
    listWatch: listWatch?.(namespace),
  });
}
