/** The controller's Pods grouped by pipeline uid, kept current by the Pod informer's events. */
import type { V1Pod } from '@kubernetes/client-node';
import { LABELS } from './labels.js';

export class PodIndex {
  private readonly byPipeline = new Map<string, Map<string, V1Pod>>();

  /** Adds or replaces a Pod; returns the uid of its pipeline, if it has one. */
  upsert(pod: V1Pod): string | undefined {
    const uid = pod.metadata?.labels?.[LABELS.pipelineUid];
    const name = pod.metadata?.name;
    if (!uid || !name) return undefined;
    let pods = this.byPipeline.get(uid);
    if (!pods) {
      pods = new Map<string, V1Pod>();
      this.byPipeline.set(uid, pods);
    }
    pods.set(name, pod);
    return uid;
  }

  remove(pod: V1Pod): string | undefined {
    const uid = pod.metadata?.labels?.[LABELS.pipelineUid];
    const pods = uid ? this.byPipeline.get(uid) : undefined;
    pods?.delete(pod.metadata?.name ?? '');
    if (pods?.size === 0) this.byPipeline.delete(uid!);
    return uid;
  }

  podsOf(uid: string): V1Pod[] {
    return [...(this.byPipeline.get(uid)?.values() ?? [])];
  }
}
