/** Runs, steps and attempts as the status API shows them: pure functions of read-model rows. */
import type { z } from 'zod';
import type { RunStatus } from '../../../api/v1alpha1/flexpipeline.js';
import type { AttemptRow, RunRow } from '../../store/api-queries.js';
import type { Attempt, Run, RunDetail, RunStep } from '../schemas.js';

const seconds = (from: Date, to: Date): number => Math.round(to.getTime() - from.getTime()) / 1000;

export function runView(r: RunRow): Run {
  return {
    runId: r.runId,
    namespace: r.namespace,
    pipeline: r.pipeline,
    trigger: r.trigger as Run['trigger'],
    ...(r.generation !== undefined && { generation: r.generation }),
    phase: r.phase as Run['phase'],
    ...(r.reason && { reason: r.reason }),
    startedAt: r.startedAt.toISOString(),
    ...(r.finishedAt && {
      finishedAt: r.finishedAt.toISOString(),
      durationSeconds: seconds(r.startedAt, r.finishedAt),
    }),
  };
}

function attemptView(a: AttemptRow): z.infer<typeof Attempt> {
  return {
    attempt: a.attempt,
    phase: a.phase,
    ...(a.pod && { pod: a.pod }),
    ...(a.exitCode !== undefined && { exitCode: a.exitCode }),
    ...(a.reason && { reason: a.reason }),
    ...(a.scheduledAt && { scheduledAt: a.scheduledAt.toISOString() }),
    ...(a.startedAt && { startedAt: a.startedAt.toISOString() }),
    ...(a.finishedAt && { finishedAt: a.finishedAt.toISOString() }),
    ...(a.durationMs !== undefined && { durationSeconds: a.durationMs / 1000 }),
    logs: a.logs,
  };
}

/**
 * A run with its steps: the attempts recorded in the store, and — while the run is the
 * pipeline's current one — what only the status knows yet (steps waiting, the next retry).
 */
export function runDetail(
  r: RunRow,
  attempts: readonly AttemptRow[],
  current?: RunStatus,
): z.infer<typeof RunDetail> {
  const live = current?.id === r.runId ? current : undefined;
  const names = [...new Set([...(live?.steps ?? []).map((s) => s.name), ...attempts.map((a) => a.step)])];
  const steps: z.infer<typeof RunStep>[] = names.map((name) => {
    const mine = attempts.filter((a) => a.step === name);
    const status = live?.steps?.find((s) => s.name === name);
    return {
      name,
      phase: status?.phase ?? mine[mine.length - 1]?.phase ?? 'Waiting',
      attempts: mine.map(attemptView),
      ...(status?.nextAttemptTime && { nextAttemptTime: status.nextAttemptTime }),
      ...(status?.message && { message: status.message }),
    };
  });
  return { ...runView(r), steps };
}
