/**
 * The resource types as the controller sees them from the apiserver: the api/ schemas with
 * the metadata the apiserver fills in (uid, generation, timestamps) typed.
 */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { FlexPipeline, FlexPlugin } from '../api/v1alpha1/index.js';

export type StoredMeta = V1ObjectMeta & { name: string; namespace: string; uid: string };

export type Stored<T extends { metadata: unknown }> = Omit<T, 'metadata'> & { metadata: StoredMeta };

export type PipelineObject = Stored<FlexPipeline>;
export type PluginObject = Stored<FlexPlugin>;

/** What a reconciler reads objects from: an informer's cache. */
export interface Cache<T> {
  get(key: string): Readonly<T> | undefined;
  list(): readonly Readonly<T>[];
}

/** `namespace/name`, the work-queue key of a namespaced object. */
export function keyOf(meta: { namespace?: string; name?: string }): string {
  return `${meta.namespace ?? ''}/${meta.name ?? ''}`;
}
