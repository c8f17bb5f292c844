/**
 * The informer's store: objects by key, frozen. Pure and synchronous; it reports what each
 * list or watch event changed, and the informer turns those changes into handler calls.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import { deepFreeze } from './deep-freeze.js';
import { objectKey } from './object-key.js';
import { compareResourceVersions, isNewerOrUnknown } from './resource-version.js';

/** One change to the cache, as handlers see it. Objects are frozen. */
export type CacheChange<T> =
  | { readonly type: 'add'; readonly object: Readonly<T> }
  | { readonly type: 'update'; readonly old: Readonly<T>; readonly object: Readonly<T> }
  | { readonly type: 'delete'; readonly object: Readonly<T> };

/** The watch event types that carry an object. */
export type ObjectEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export class ObjectCache<T extends KubernetesObject> {
  private readonly items = new Map<string, Readonly<T>>();

  get(key: string): Readonly<T> | undefined {
    return this.items.get(key);
  }

  list(): Readonly<T>[] {
    return [...this.items.values()];
  }

  get size(): number {
    return this.items.size;
  }

  /**
   * Makes the cache hold exactly `objects` (a fresh list). Returns deletes for keys that are
   * gone, adds for new keys, updates for keys whose resourceVersion changed; an object whose
   * resourceVersion is unchanged is no change. Objects without a name are skipped.
   */
  replace(objects: readonly T[]): CacheChange<T>[] {
    const fresh = new Map<string, Readonly<T>>();
    for (const obj of objects) {
      if (obj.metadata?.name) fresh.set(objectKey(obj), obj);
    }
    const changes: CacheChange<T>[] = [];
    for (const [key, old] of this.items) {
      if (!fresh.has(key)) {
        this.items.delete(key);
        changes.push({ type: 'delete', object: old });
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.items.get(key);
      if (
        old &&
        compareResourceVersions(old.metadata?.resourceVersion, obj.metadata?.resourceVersion) === 0
      ) {
        continue;
      }
      const frozen = deepFreeze(obj);
      this.items.set(key, frozen);
      changes.push(old ? { type: 'update', old, object: frozen } : { type: 'add', object: frozen });
    }
    return changes;
  }

  /**
   * Applies one watch event. Returns undefined when it changes nothing: an object that is not
   * newer than the cached one (the cache never goes back in time), a delete of an unknown key,
   * or an object without a name.
   */
  apply(type: ObjectEventType, obj: T): CacheChange<T> | undefined {
    if (!obj.metadata?.name) return undefined;
    const key = objectKey(obj);
    const old = this.items.get(key);
    const newer = isNewerOrUnknown(obj.metadata.resourceVersion, old?.metadata?.resourceVersion);
    if (old && !newer) return undefined;
    const frozen = deepFreeze(obj);
    if (type === 'DELETED') {
      if (!old) return undefined;
      this.items.delete(key);
      return { type: 'delete', object: frozen };
    }
    this.items.set(key, frozen);
    return old ? { type: 'update', old, object: frozen } : { type: 'add', object: frozen };
  }
}
