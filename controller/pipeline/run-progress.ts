/**
 * Moving a run forward (pure): sync active attempts with their Pods, start steps whose
 * dependencies succeeded, retry after backoff, skip downstream of a failure, finish the run.
 * Cancellation (by request, deadline, replacement or deletion) stops everything in flight.
 */
import type { Step } from '../../api/v1alpha1/index.js';
import { finishAttempt, podFinish, syncAttempt } from './attempts.js';
import { syncDiscovery } from './discovery-attempt.js';
import type { RunState } from './history.js';
import type { Plan } from './plan.js';
import { scheduleAttempt } from './schedule-attempt.js';
import { standing, type StepStanding } from './step-outcome.js';

function standingOf(plan: Plan, run: RunState, step: Step): StepStanding {
  return standing(run.id, step, run.steps[step.name], plan.input.plugins.get(step.plugin));
}

function startIfReady(plan: Plan, run: RunState, step: Step): void {
  const deps = (step.dependsOn ?? []).map((d) => run.spec.steps.find((s) => s.name === d));
  const standings = deps.map((d) => (d ? standingOf(plan, run, d) : undefined));
  const failed = standings.some((s) => s?.kind === 'done' && s.outcome !== 'Succeeded');
  if (failed) {
    plan.emit('StepSkipped', { runId: run.id, step: step.name, reason: 'UpstreamFailed' }, run.id, step.name);
    return;
  }
  if (standings.every((s) => s?.kind === 'done' && s.outcome === 'Succeeded'))
    scheduleAttempt(plan, run, step, 1);
}

/** One pass over the steps in spec order; returns true when it changed something. */
function stepPass(plan: Plan, run: RunState): boolean {
  const before = plan.events.length;
  for (const step of run.spec.steps) {
    const s = standingOf(plan, run, step);
    if (s.kind === 'active' && s.attempt.phase === 'Discovering') syncDiscovery(plan, run, step, s.attempt);
    else if (s.kind === 'active') syncAttempt(plan, run, step, s.attempt);
    else if (s.kind === 'notStarted') startIfReady(plan, run, step);
    else if (s.kind === 'retrying' && plan.now >= s.at) scheduleAttempt(plan, run, step, s.after.attempt + 1);
    else if (s.kind === 'retrying') plan.wake(s.at);
  }
  return plan.events.length > before;
}

function finishIfDone(plan: Plan, run: RunState): void {
  const standings = run.spec.steps.map((s) => ({ step: s.name, s: standingOf(plan, run, s) }));
  if (!standings.every(({ s }) => s.kind === 'done')) return;
  const bad = standings.find(({ s }) => s.kind === 'done' && s.outcome !== 'Succeeded');
  const reason = bad && bad.s.kind === 'done' ? `Step${bad.s.outcome}` : undefined;
  const phase = bad ? 'Failed' : 'Succeeded';
  plan.emit('RunFinished', { runId: run.id, phase, ...(reason && { reason }) }, run.id);
  plan.act({
    kind: 'event',
    type: bad ? 'Warning' : 'Normal',
    reason: bad ? 'RunFailed' : 'RunSucceeded',
    note: bad
      ? `Run ${run.id} (${run.trigger}) failed: step ${bad.step} ${reason ?? ''}`
      : `Run ${run.id} (${run.trigger}) succeeded`,
  });
}

/** Moves an active run as far as it can go now. */
export function advanceRun(plan: Plan, run: RunState): void {
  // Each pass may finish steps that unblock others; a DAG of n steps settles in n passes.
  for (let i = 0; i <= run.spec.steps.length && stepPass(plan, run); i++);
  finishIfDone(plan, run);
}

/**
 * Stops a run: attempts in flight are finished as Cancelled (their logs kept, their Pods
 * deleted), steps not started are skipped with `reason`, then the run ends in `phase`.
 */
export function stopRun(plan: Plan, run: RunState, reason: string, phase: 'Cancelled' | 'Failed'): void {
  let complete = true;
  for (const step of run.spec.steps) {
    const s = standingOf(plan, run, step);
    if (s.kind === 'active') {
      // A Pod that already ended is recorded as it ended, not as cancelled.
      const pod = plan.pod(s.attempt.pod);
      // A discovery that ended is no outcome of the step: it is cancelled like one still running.
      const ended =
        pod && s.attempt.phase !== 'Discovering' && (pod.outcome === 'Succeeded' || pod.outcome === 'Failed');
      const finish = ended ? podFinish(pod) : { phase: 'Cancelled' as const, reason };
      complete = finishAttempt(plan, run, step, s.attempt, finish) && complete;
    }
    const now = standingOf(plan, run, step);
    if (now.kind === 'notStarted' || now.kind === 'retrying') {
      plan.emit('StepSkipped', { runId: run.id, step: step.name, reason }, run.id, step.name);
    }
  }
  if (!complete) return;
  plan.emit('RunFinished', { runId: run.id, phase, reason }, run.id);
  plan.act({
    kind: 'event',
    type: 'Warning',
    reason: `Run${reason}`,
    note: `Run ${run.id} (${run.trigger}) stopped: ${reason}`,
  });
}
