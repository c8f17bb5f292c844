/**
 * What the manager and the reconcilers use of an informer: handlers, start and sync, the cache,
 * stop. `Informer` (one collection) and `NamespacedInformers` (one informer per watched
 * namespace) both offer it.
 */
import type { KubernetesObject } from '@kubernetes/client-node';

/** Handlers get frozen objects: clone before changing anything. A returned promise's rejection is logged. */
export type AddHandler<T> = (obj: Readonly<T>) => void | Promise<void>;
/** On a resync `oldObj` and `newObj` are the same object. */
export type UpdateHandler<T> = (oldObj: Readonly<T>, newObj: Readonly<T>) => void | Promise<void>;
/** After a relist the object is the last state the cache knew, which may be older than the deletion. */
export type DeleteHandler<T> = (obj: Readonly<T>) => void | Promise<void>;

export interface ResourceInformer<T extends KubernetesObject> {
  /** Called for each object that enters the cache. */
  onAdd(handler: AddHandler<T>): this;
  /** Called for each change of a cached object, and for every object on each resync. */
  onUpdate(handler: UpdateHandler<T>): this;
  /** Called for each object that leaves the cache. */
  onDelete(handler: DeleteHandler<T>): this;
  /** Resolves once the first list is in the cache and its add handlers have run. */
  start(): Promise<void>;
  /** True once the first list is in the cache; stays true through later relists. */
  hasSynced(): boolean;
  /** Every cached object; frozen. */
  list(): Readonly<T>[];
  /** The cached object with key `namespace/name` (`name` for cluster-scoped ones); frozen. */
  get(key: string): Readonly<T> | undefined;
  /** Stops for good; resolves once nothing runs any more. */
  stop(): Promise<void>;
}
