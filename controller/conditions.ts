/** Kubernetes-style conditions (pure): lastTransitionTime moves only when the status changes. */
import type { Condition } from '../api/v1alpha1/index.js';

export interface ConditionUpdate {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/** The conditions after `updates`, keeping the transition time of each unchanged status. */
export function mergeConditions(
  previous: readonly Condition[] | undefined,
  updates: readonly ConditionUpdate[],
  generation: number | undefined,
  now: number,
): Condition[] {
  const byType = new Map((previous ?? []).map((c) => [c.type, c]));
  return updates.map((u) => {
    const old = byType.get(u.type);
    const lastTransitionTime =
      old && old.status === u.status
        ? old.lastTransitionTime
        : new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
    return { ...u, observedGeneration: generation, lastTransitionTime };
  });
}
