/**
 * History limits (pure): Pods of finished runs beyond successful/failedRunsHistoryLimit are
 * deleted. Their logs are already in the event store (kept when each attempt finished).
 */
import { isActive, type RunState } from './history.js';
import type { Plan } from './plan.js';

function podsOf(plan: Plan, run: RunState): string[] {
  return plan.input.pods.filter((p) => p.runKey === run.key && !p.deleting).map((p) => p.name);
}

export function cleanUpHistory(plan: Plan): void {
  const { successfulRunsHistoryLimit, failedRunsHistoryLimit } = plan.input.pipeline.spec;
  const finished = plan.history.runs.filter((r) => !isActive(r)).reverse(); // newest first
  const succeeded = finished.filter((r) => r.phase === 'Succeeded');
  const others = finished.filter((r) => r.phase !== 'Succeeded');
  const expired = [...succeeded.slice(successfulRunsHistoryLimit), ...others.slice(failedRunsHistoryLimit)];
  for (const run of expired) {
    for (const pod of podsOf(plan, run)) {
      plan.act({ kind: 'deletePod', pod, reason: 'HistoryLimit' });
      plan.act({ kind: 'deleteSecret', name: pod });
    }
  }
}
