/**
 * History limits (pure): Pods of finished runs beyond successful/failedRunsHistoryLimit are
 * deleted. Their logs are already in the event store (kept when each attempt finished).
 */
import { isActive, type RunState } from './history.js';
import type { ObservedPod } from './observed-pod.js';
import type { Plan } from './plan.js';

/** True when the Pod is an attempt's whose config went inline: it never had a Secret. */
function withoutSecret(plan: Plan, pod: ObservedPod): boolean {
  const run = plan.history.runs.find((r) => r.key === pod.runKey);
  return Object.values(run?.steps ?? {}).some((s) =>
    s.attempts.some((a) => a.pod === pod.name && a.inlineConfig),
  );
}

function expire(plan: Plan, pods: readonly ObservedPod[]): void {
  for (const pod of pods.filter((p) => !p.deleting)) {
    plan.act({ kind: 'deletePod', pod: pod.name, reason: 'HistoryLimit' });
    // The Secret went when the attempt finished; this is for one a crash left behind.
    if (!withoutSecret(plan, pod)) plan.act({ kind: 'deleteSecret', name: pod.name });
  }
}

/**
 * Pods of runs no longer in memory (older than the newest MAX_FINISHED_RUNS finished runs).
 * Such a run is older than every run held, so it is beyond its limit once the held runs of
 * its kind fill that limit. Its phase is not known any more; a failed Pod marks it failed.
 */
function expireForgottenRuns(plan: Plan, succeeded: number, others: number): void {
  const { successfulRunsHistoryLimit, failedRunsHistoryLimit } = plan.input.pipeline.spec;
  const known = new Set(plan.history.runs.map((r) => r.key));
  const forgotten = new Map<string, ObservedPod[]>();
  for (const pod of plan.input.pods.filter((p) => !known.has(p.runKey))) {
    const pods = forgotten.get(pod.runKey) ?? [];
    forgotten.set(pod.runKey, pods);
    pods.push(pod);
  }
  for (const pods of forgotten.values()) {
    if (pods.some((p) => p.outcome === 'Pending' || p.outcome === 'Running')) continue;
    const failed = pods.some((p) => p.outcome === 'Failed');
    if (failed ? others >= failedRunsHistoryLimit : succeeded >= successfulRunsHistoryLimit)
      expire(plan, pods);
  }
}

export function cleanUpHistory(plan: Plan): void {
  const { successfulRunsHistoryLimit, failedRunsHistoryLimit } = plan.input.pipeline.spec;
  const finished = plan.history.runs.filter((r) => !isActive(r)).reverse(); // newest first
  const succeeded = finished.filter((r) => r.phase === 'Succeeded');
  const others = finished.filter((r) => r.phase !== 'Succeeded');
  const expired = [...succeeded.slice(successfulRunsHistoryLimit), ...others.slice(failedRunsHistoryLimit)];
  const podsOf = (run: RunState): ObservedPod[] => plan.input.pods.filter((p) => p.runKey === run.key);
  for (const run of expired) expire(plan, podsOf(run));
  expireForgottenRuns(plan, succeeded.length, others.length);
}
