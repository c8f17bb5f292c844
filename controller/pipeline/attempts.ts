/**
 * Step attempts against their Pods: started, finished (after keeping their logs and Singer
 * state), timed out, or lost. Pure: decisions go to the Plan.
 */
import type { Step } from '../../api/v1alpha1/index.js';
import { boundLogTail } from '../store/event-types.js';
import type { AttemptState, RunState } from './history.js';
import type { ObservedPod } from './observed-pod.js';
import { iso, type Plan } from './plan.js';
import { lastSingerState } from './singer-state.js';
import { stateIdOf } from './state-id.js';
import { effectiveTimeoutSeconds } from './step-policy.js';

/** The longest kubelet message kept with an attempt. */
const MAX_MESSAGE = 1024;

export type FinishPhase = 'Succeeded' | 'Failed' | 'TimedOut' | 'Cancelled';

export interface Finish {
  readonly phase: FinishPhase;
  readonly reason?: string;
  /** What the kubelet said, for a step that could not start (bounded). */
  readonly message?: string;
  readonly exitCode?: number;
  readonly at?: number;
}

function ref(run: RunState, step: string, a: AttemptState): Record<string, unknown> {
  return { runId: run.id, step, attempt: a.attempt };
}

/** Records the logs (and the target's Singer state) of an attempt; false until they were read. */
function keepLogs(
  plan: Plan,
  run: RunState,
  step: Step,
  a: AttemptState,
  pod: ObservedPod,
  f: Finish,
): boolean {
  const logs = plan.logs(pod.name);
  if (!logs) return false;
  for (const container of pod.containers) {
    const { tail, truncated } = boundLogTail(logs[container] ?? '');
    plan.emit(
      'LogTailCaptured',
      { ...ref(run, step.name, a), container, tail, truncated },
      run.id,
      step.name,
      a.attempt,
      container,
    );
  }
  for (const [container, counts] of Object.entries(plan.input.recordCounts?.get(pod.name) ?? {})) {
    plan.emit(
      'SingerRecordsCounted',
      { ...ref(run, step.name, a), container, ...counts },
      run.id,
      step.name,
      a.attempt,
      container,
    );
  }
  const state = step.target ? lastSingerState(logs.target ?? '') : undefined;
  if (state) {
    plan.emit(
      'SingerStateCaptured',
      {
        ...ref(run, step.name, a),
        stateId: stateIdOf(plan.input.pipeline, step),
        state,
        partial: f.phase !== 'Succeeded',
      },
      run.id,
      step.name,
      a.attempt,
    );
  }
  return true;
}

/**
 * Finishes an attempt: keeps its logs first when its Pod still exists. Returns false when the
 * logs must be read first (the reconciler reads them and plans again).
 */
export function finishAttempt(plan: Plan, run: RunState, step: Step, a: AttemptState, f: Finish): boolean {
  const pod = plan.pod(a.pod);
  if (pod && !keepLogs(plan, run, step, a, pod, f)) return false;
  if (a.phase === 'Scheduled' && pod?.startedAt !== undefined) {
    plan.emit(
      'StepAttemptStarted',
      { ...ref(run, step.name, a), at: iso(pod.startedAt) },
      run.id,
      step.name,
      a.attempt,
    );
  }
  plan.emit(
    'StepAttemptFinished',
    {
      ...ref(run, step.name, a),
      phase: f.phase,
      ...(f.exitCode !== undefined && { exitCode: f.exitCode }),
      ...(f.reason !== undefined && { reason: f.reason }),
      ...(f.message !== undefined && { message: f.message.slice(0, MAX_MESSAGE) }),
      at: iso(f.at ?? plan.now),
    },
    run.id,
    step.name,
    a.attempt,
  );
  // Delete a Pod still running, or one the cache may not show yet (NotFound is fine).
  if (
    !pod
      ? f.phase === 'Cancelled' || f.phase === 'TimedOut'
      : pod.outcome === 'Running' || pod.outcome === 'Pending'
  ) {
    plan.act({ kind: 'deletePod', pod: a.pod, reason: f.reason ?? f.phase });
  }
  // An inline config has no Secret (config-carrier.ts).
  if (!a.inlineConfig) plan.act({ kind: 'deleteSecret', name: a.pod });
  return true;
}

/** How an attempt ended, read from its finished Pod. */
export function podFinish(pod: ObservedPod): Finish {
  if (pod.outcome === 'Succeeded')
    return { phase: 'Succeeded', exitCode: pod.exitCode ?? 0, at: pod.finishedAt };
  if (pod.reason === 'DeadlineExceeded')
    return { phase: 'TimedOut', reason: 'DeadlineExceeded', at: pod.finishedAt };
  return {
    phase: 'Failed',
    exitCode: pod.exitCode,
    reason:
      pod.reason ??
      pod.killedBecause ??
      (pod.exitCode !== undefined ? `ExitCode${pod.exitCode}` : 'PodFailed'),
    ...(pod.exits !== undefined && { message: pod.exits }),
    at: pod.finishedAt,
  };
}

/** Brings one active attempt up to date with its Pod. */
export function syncAttempt(plan: Plan, run: RunState, step: Step, a: AttemptState): void {
  const pod = plan.pod(a.pod);
  const plugin = plan.input.plugins.get(step.plugin);
  const timeoutMs = effectiveTimeoutSeconds(step, plugin) * 1000;
  if (!pod) {
    if (a.phase === 'Running') {
      finishAttempt(plan, run, step, a, { phase: 'Failed', reason: 'PodLost' });
    } else if (plan.now >= a.scheduledAt + timeoutMs) {
      finishAttempt(plan, run, step, a, { phase: 'TimedOut', reason: 'NeverStarted' });
    } else {
      // Recorded but not (yet) created: a crash between the two, or the cache is behind.
      plan.act({
        kind: 'createPod',
        runId: run.id,
        runKey: run.key,
        step: step.name,
        attempt: a.attempt,
        pod: a.pod,
        ...(a.phase === 'Discovering' && { discover: true }),
      });
      plan.wake(a.scheduledAt + timeoutMs);
    }
    return;
  }
  if (pod.outcome === 'Succeeded' || pod.outcome === 'Failed') {
    finishAttempt(plan, run, step, a, podFinish(pod));
    return;
  }
  if (pod.outcome === 'Running' && a.phase === 'Scheduled') {
    const at = iso(pod.startedAt ?? plan.now);
    plan.emit('StepAttemptStarted', { ...ref(run, step.name, a), at }, run.id, step.name, a.attempt);
  }
  if (pod.stuck) {
    // Counted from when the kubelet took the Pod: a wrong image or config does not heal itself.
    const stuckSince = pod.startedAt ?? a.scheduledAt;
    if (plan.now >= stuckSince + plan.input.startGraceMs) {
      finishAttempt(plan, run, step, a, {
        phase: 'Failed',
        reason: pod.stuck.reason,
        message: pod.stuck.message,
      });
      return;
    }
    plan.wake(stuckSince + plan.input.startGraceMs);
  }
  const since = a.startedAt ?? pod.startedAt ?? a.scheduledAt;
  if (plan.now >= since + timeoutMs) {
    finishAttempt(plan, run, step, a, { phase: 'TimedOut', reason: 'Timeout' });
  } else {
    plan.wake(since + timeoutMs);
  }
}
