/**
 * The pipeline planner (pure): from the pipeline, its history, its Pods and the time, decide
 * the events to record and the actions that follow. Called by the reconciler on every
 * reconcile; the same inputs always give the same plan.
 */
import { ANNOTATIONS } from './labels.js';
import { isActive, type RunState } from './history.js';
import { runId, runKey, type RunCause } from './naming.js';
import { Plan, iso, type PlanInput } from './plan.js';
import { advanceRun, stopRun } from './run-progress.js';
import { decideTrigger, nextScheduleTime } from './triggers.js';
import { cleanUpHistory } from './cleanup.js';

function cancelRequested(plan: Plan, run: RunState): boolean {
  const value = plan.input.pipeline.metadata.annotations?.[ANNOTATIONS.cancelRun]?.trim();
  return value !== undefined && (value === run.id || value === run.key);
}

/** When the run must end by its activeDeadlineSeconds, if it has one. */
export function deadlineOf(run: RunState): number | undefined {
  const seconds = run.spec.activeDeadlineSeconds;
  return seconds === undefined ? undefined : run.startedAt + seconds * 1000;
}

function progressRun(plan: Plan, run: RunState): void {
  const deadline = deadlineOf(run);
  if (cancelRequested(plan, run)) stopRun(plan, run, 'Cancelled', 'Cancelled');
  else if (deadline !== undefined && plan.now >= deadline) stopRun(plan, run, 'DeadlineExceeded', 'Failed');
  else {
    advanceRun(plan, run);
    if (deadline !== undefined && isActive(run)) plan.wake(deadline);
  }
}

function stepList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Steps that start without their Singer state: the standing annotation's, and a manual request's own. */
function fullRefreshOf(plan: Plan, cause: RunCause): string[] {
  const annotations = plan.input.pipeline.metadata.annotations ?? {};
  const once = cause.trigger === 'Manual' ? stepList(annotations[ANNOTATIONS.runFullRefresh]) : [];
  return [...new Set([...stepList(annotations[ANNOTATIONS.fullRefresh]), ...once])];
}

function startRun(plan: Plan, cause: RunCause): void {
  const { metadata, spec } = plan.input.pipeline;
  const key = runKey(cause);
  const id = runId(metadata.uid, key);
  plan.emit(
    'RunStarted',
    {
      runId: id,
      runKey: key,
      pipeline: { namespace: metadata.namespace, name: metadata.name },
      trigger: cause.trigger,
      ...(cause.trigger === 'Generation' && { generation: cause.generation }),
      ...(cause.trigger === 'Manual' && { request: cause.request }),
      ...(cause.trigger === 'Schedule' && { tickMs: cause.tickMs, tick: iso(cause.tickMs) }),
      fullRefresh: fullRefreshOf(plan, cause),
      spec,
    },
    id,
  );
  // No Kubernetes Event here: a run posts one when it ends (status shows the run meanwhile).
  const run = plan.history.runs.find((r) => r.id === id);
  if (run) progressRun(plan, run);
}

function applyTriggers(plan: Plan): void {
  const { pipeline } = plan.input;
  // Each decision changes the history; a few rounds settle it (replace, then start, ...).
  for (let round = 0; round < 4; round++) {
    const d = decideTrigger({ pipeline, history: plan.history, now: plan.now });
    if (d.kind === 'none') {
      plan.waiting = d.waiting;
      return;
    }
    if (d.kind === 'skipTick') {
      plan.emit('ScheduleTickSkipped', { tickMs: d.tickMs, tick: iso(d.tickMs), reason: d.reason }, d.tickMs);
      plan.act({
        kind: 'event',
        type: 'Normal',
        reason: 'TickSkipped',
        note: `Tick ${iso(d.tickMs)}: ${d.reason}`,
      });
      continue;
    }
    for (const id of d.replace) {
      const run = plan.history.runs.find((r) => r.id === id);
      if (run) stopRun(plan, run, 'Replaced', 'Cancelled');
    }
    if (d.replace.some((id) => plan.history.runs.find((r) => r.id === id && isActive(r)))) return;
    startRun(plan, d.cause);
  }
}

function deletePipeline(plan: Plan): void {
  for (const run of plan.history.runs.filter(isActive)) stopRun(plan, run, 'PipelineDeleted', 'Cancelled');
  if (plan.needLogs.size === 0 && !plan.history.deleted) plan.emit('PipelineDeleted', {});
}

/** Plans one reconcile of a pipeline. */
export function planPipeline(input: PlanInput): Plan {
  const plan = new Plan(input);
  if (input.pipeline.metadata.deletionTimestamp) {
    deletePipeline(plan);
    return plan;
  }
  for (const run of plan.history.runs.filter(isActive)) progressRun(plan, run);
  if (input.startBlocked === undefined) applyTriggers(plan);
  cleanUpHistory(plan);
  const next = nextScheduleTime(input.pipeline, input.now);
  if (next !== undefined) plan.wake(next);
  return plan;
}
