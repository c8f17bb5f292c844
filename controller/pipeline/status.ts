/**
 * Pipeline status, recomputed from the history and the observed Pods (pure). Small and
 * bounded: the current run, the last finished run, schedule times, conditions.
 */
import type {
  FlexPipelineStatus,
  PipelinePhase,
  RunStatus,
  StepPhase,
  StepStatus,
} from '../../api/v1alpha1/index.js';
import { mergeConditions, type ConditionUpdate } from '../conditions.js';
import type { PipelineObject, PluginObject } from '../objects.js';
import { isActive, type History, type RunState } from './history.js';
import type { ObservedPod } from './observed-pod.js';
import { standing } from './step-outcome.js';
import { nextScheduleTime } from './triggers.js';

export interface StatusInput {
  readonly pipeline: PipelineObject;
  readonly plugins: ReadonlyMap<string, PluginObject>;
  readonly history: History;
  readonly pods: readonly ObservedPod[];
  readonly now: number;
  /** Set when the spec cannot run: the Ready condition says why. */
  readonly invalid?: { readonly reason: string; readonly message: string };
  /** Why a pending run does not start yet. */
  readonly waiting?: string;
}

const rfc3339 = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function stepStatus(input: StatusInput, run: RunState, name: string): StepStatus {
  const spec = run.spec.steps.find((s) => s.name === name)!;
  const state = run.steps[name];
  const s = standing(run.id, spec, state, input.plugins.get(spec.plugin));
  const last = state?.attempts[state.attempts.length - 1];
  const first = state?.attempts[0];
  const base = {
    name,
    attempt: last?.attempt,
    pod: last?.pod,
    startTime: rfc3339(first?.startedAt ?? first?.scheduledAt),
    exitCode: last?.exitCode,
  };
  switch (s.kind) {
    case 'notStarted':
      return { ...base, phase: 'Waiting' };
    case 'active': {
      const pod = input.pods.find((p) => p.name === s.attempt.pod);
      const phase: StepPhase =
        s.attempt.phase === 'Running' || pod?.outcome === 'Running' ? 'Running' : 'Scheduled';
      if (s.attempt.phase === 'Discovering')
        return { ...base, phase, reason: 'Discovering', message: 'The tap is discovering its catalog.' };
      // A container that cannot start says why while the grace runs.
      return { ...base, phase, ...(pod?.stuck && { reason: pod.stuck.reason, message: pod.stuck.message }) };
    }
    case 'retrying':
      return {
        ...base,
        phase: 'Retrying',
        reason: last?.reason,
        message: last?.message,
        nextAttemptTime: rfc3339(s.at),
      };
    case 'done':
      return {
        ...base,
        phase: s.outcome,
        reason: s.reason,
        message: last?.message,
        completionTime: rfc3339(last?.finishedAt ?? state?.skipped?.at),
      };
  }
}

function runStatus(input: StatusInput, run: RunState): RunStatus {
  return {
    id: run.id,
    trigger: run.trigger,
    phase: run.phase,
    startTime: rfc3339(run.startedAt),
    completionTime: rfc3339(run.finishedAt),
    steps: run.spec.steps.map((s) => stepStatus(input, run, s.name)),
  };
}

function progressOf(run: RunStatus | undefined): string | undefined {
  if (!run?.steps) return undefined;
  const done = run.steps.filter((s) => !['Waiting', 'Scheduled', 'Running', 'Retrying'].includes(s.phase));
  return `${done.length}/${run.steps.length}`;
}

function conditionsOf(
  input: StatusInput,
  current: RunState | undefined,
  last: RunState | undefined,
): ConditionUpdate[] {
  const ready: ConditionUpdate = input.invalid
    ? { type: 'Ready', status: 'False', ...input.invalid }
    : { type: 'Ready', status: 'True', reason: 'Valid', message: 'The pipeline can run.' };
  const running: ConditionUpdate = current
    ? {
        type: 'Running',
        status: 'True',
        reason: 'RunActive',
        message: `Run ${current.id} is ${current.phase.toLowerCase()}.`,
      }
    : {
        type: 'Running',
        status: 'False',
        reason: input.waiting ? 'Waiting' : last ? `Run${last.phase}` : 'NoRuns',
        message:
          input.waiting ??
          (last
            ? `Run ${last.id} ${last.phase.toLowerCase()}${last.reason ? `: ${last.reason}` : ''}.`
            : 'No run yet.'),
      };
  const reconciling = reconcilingOf(input);
  const stalled = stalledOf(input, last);
  return [ready, running, ...(reconciling ? [reconciling] : []), ...(stalled ? [stalled] : [])];
}

/**
 * kstatus' Reconciling (present only when True): a run the applied manifest asked for (a new
 * generation of a pipeline without schedule, or a run-requested value) is active or waits its
 * turn. Scheduled runs never count: GitOps health checks must not wait on a nightly run.
 */
function reconcilingOf(input: StatusInput): ConditionUpdate | undefined {
  const asked = input.history.runs.find((r) => isActive(r) && r.trigger !== 'Schedule');
  if (asked)
    return {
      type: 'Reconciling',
      status: 'True',
      reason: 'RunActive',
      message: `${asked.trigger} run ${asked.id} is ${asked.phase.toLowerCase()}.`,
    };
  if (input.waiting)
    return { type: 'Reconciling', status: 'True', reason: 'RunWaiting', message: input.waiting };
  return undefined;
}

/**
 * kstatus' Stalled (present only when True): the spec cannot run, or a pipeline without
 * schedule (and not suspended) ended its last run Failed: nothing runs again until the spec
 * changes or a run is requested. A scheduled pipeline's failed run is not Stalled: the next
 * tick runs it again.
 */
function stalledOf(input: StatusInput, last: RunState | undefined): ConditionUpdate | undefined {
  if (input.invalid) return { type: 'Stalled', status: 'True', ...input.invalid };
  const { schedule, suspend } = input.pipeline.spec;
  if (schedule || suspend || last?.phase !== 'Failed' || input.history.runs.some(isActive)) return undefined;
  return {
    type: 'Stalled',
    status: 'True',
    reason: 'LastRunFailed',
    message: `Run ${last.id} failed${last.reason ? `: ${last.reason}` : ''}; a new generation or run request runs it again.`,
  };
}

/** The status the pipeline should have now. */
export function computeStatus(input: StatusInput): FlexPipelineStatus {
  const { pipeline, history, now } = input;
  const runs = history.runs;
  const current = [...runs].reverse().find(isActive);
  const last = [...runs].reverse().find((r) => !isActive(r));
  const currentRun = current && runStatus(input, current);
  const lastRun = last && runStatus(input, last);
  const phase: PipelinePhase =
    input.invalid && !current ? 'Invalid' : ((currentRun ?? lastRun)?.phase ?? 'Idle');
  const status: FlexPipelineStatus = {
    observedGeneration: pipeline.metadata.generation,
    phase,
    progress: progressOf(currentRun ?? lastRun),
    conditions: mergeConditions(
      pipeline.status?.conditions,
      conditionsOf(input, current, last),
      pipeline.metadata.generation,
      now,
    ),
    currentRun,
    lastRun,
    lastScheduleTime: rfc3339(history.lastScheduleTime),
    nextScheduleTime: rfc3339(nextScheduleTime(pipeline, now)),
    lastRunRequest: history.lastRequest,
    lastEventPosition: history.lastPosition === undefined ? undefined : String(history.lastPosition),
  };
  return JSON.parse(JSON.stringify(status)) as FlexPipelineStatus; // drop undefined fields
}
