/**
 * Small hand-written fixtures for the pipeline engine's pure core: API objects with the
 * defaults the apiserver would apply, observed Pods, events folded into a History, and a
 * `PipelineWorld` that drives the planner the way the reconciler does (plan, record, act).
 */
import { FlexPipelineSpec, FlexPluginSpec } from '../../../api/v1alpha1/index.js';
import type { PipelineObject, PluginObject } from '../../../controller/objects.js';
import { emptyHistory, foldHistory, type History } from '../../../controller/pipeline/history.js';
import { ANNOTATIONS } from '../../../controller/pipeline/labels.js';
import type { ObservedPod } from '../../../controller/pipeline/observed-pod.js';
import type { Plan, PlanInput, PodLogs } from '../../../controller/pipeline/plan.js';
import { planPipeline } from '../../../controller/pipeline/planner.js';
import type { NewEvent } from '../../../controller/store/recorded-event.js';

export const NAMESPACE = 'data';
export const PIPELINE = 'orders';
export const UID = '3f9c1e2a-7b4d-4c8e-9a1f-5d6e7f8a9b0c';
/** The start of UID that run ids end with. */
export const UID8 = '3f9c1e2a';
export const STREAM = `pipeline-${UID}`;
export const CREATED = '2025-01-01T00:00:00Z';
/** A fixed "now" for tests that do not care which instant it is. */
export const T0 = Date.parse('2025-03-01T12:00:00Z');

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

/** `ms` as the RFC 3339 string events carry. */
export const iso = (ms: number): string => new Date(ms).toISOString();

export interface PipelineOptions {
  readonly name?: string;
  readonly generation?: number;
  readonly annotations?: Record<string, string>;
  /** RFC 3339; CREATED by default. */
  readonly created?: string;
  readonly deleting?: boolean;
}

/**
 * A FlexPipeline as the informer hands it over: spec defaults applied (as the apiserver does
 * from the CRD), timestamps as the JSON strings the watch delivers.
 */
export function pipelineObject(spec: Record<string, unknown>, o: PipelineOptions = {}): PipelineObject {
  return {
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPipeline',
    metadata: {
      name: o.name ?? PIPELINE,
      namespace: NAMESPACE,
      uid: UID,
      generation: o.generation ?? 1,
      creationTimestamp: (o.created ?? CREATED) as unknown as Date,
      ...(o.annotations && { annotations: o.annotations }),
      ...(o.deleting && { deletionTimestamp: '2025-06-01T00:00:00Z' as unknown as Date }),
    },
    spec: FlexPipelineSpec.parse(spec),
  };
}

/** A FlexPlugin with its spec defaults applied. */
export function pluginObject(name: string, spec: Record<string, unknown>): PluginObject {
  return {
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPlugin',
    metadata: { name, namespace: NAMESPACE, uid: `uid-${name}`, generation: 1, resourceVersion: '1' },
    spec: FlexPluginSpec.parse(spec),
  };
}

export const UTILITY = pluginObject('job', { type: 'utility', image: 'example.com/job:1' });
export const TAP = pluginObject('tap-pg', { type: 'tap', image: 'example.com/tap:1' });
export const TARGET = pluginObject('target-jsonl', { type: 'target', image: 'example.com/target:1' });

export function pluginMap(...plugins: PluginObject[]): Map<string, PluginObject> {
  return new Map(plugins.map((p) => [p.metadata.name, p]));
}

/** A step of the `job` utility plugin. */
export function step(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, plugin: 'job', ...extra };
}

/** Pipeline annotations: run-requested, cancel-run, full-refresh. */
export const annotate = {
  request: (value: string): Record<string, string> => ({ [ANNOTATIONS.runRequested]: value }),
  cancel: (value: string): Record<string, string> => ({ [ANNOTATIONS.cancelRun]: value }),
  fullRefresh: (value: string): Record<string, string> => ({ [ANNOTATIONS.fullRefresh]: value }),
};

/** Pod name of an attempt of PIPELINE, as the planner names it. */
export const podOf = (runKey: string, stepName: string, attempt = 1): string =>
  `${PIPELINE}-${runKey}-${stepName}-${attempt}`;

/** The observed Pod of attempt `attempt` of `stepName` in run `runKey`, named as the planner names it. */
export function observedPod(
  runKey: string,
  stepName: string,
  fields: Partial<ObservedPod> & Pick<ObservedPod, 'outcome'>,
  attempt = 1,
): ObservedPod {
  return {
    name: podOf(runKey, stepName, attempt),
    runKey,
    step: stepName,
    attempt,
    containers: ['plugin'],
    deleting: false,
    ...fields,
  };
}

export interface PlainEvent {
  readonly type: string;
  readonly data: Record<string, unknown>;
}

/**
 * Folds events onto `base` as the store would record them: stream versions and positions
 * continue from the base, the record time is the event's `at` (or the epoch).
 */
export function fold(base: History, events: readonly PlainEvent[]): History {
  const position = base.lastPosition ?? 0;
  return foldHistory(
    events.map((e, i) => ({
      type: e.type,
      data: e.data,
      recordedAt: new Date(typeof e.data.at === 'string' ? e.data.at : 0),
      streamVersion: base.version + 1 + i,
      position: position + 1 + i,
    })),
    base,
  );
}

/** The history after `events`, from an empty stream. */
export const historyOf = (...events: PlainEvent[]): History => fold(emptyHistory(), events);

/** Event builders, with the data shapes the planner writes. */
export const ev = {
  runStarted(
    key: string,
    spec: PipelineObject['spec'],
    at: number,
    cause: Record<string, unknown> = { trigger: 'Generation', generation: 1 },
  ): PlainEvent {
    return {
      type: 'RunStarted',
      data: { runId: `${key}-${UID8}`, runKey: key, fullRefresh: [], spec, ...cause, at: iso(at) },
    };
  },
  scheduled(key: string, stepName: string, at: number, attempt = 1): PlainEvent {
    const data = { runId: `${key}-${UID8}`, step: stepName, attempt, pod: podOf(key, stepName, attempt) };
    return { type: 'StepAttemptScheduled', data: { ...data, at: iso(at) } };
  },
  started(key: string, stepName: string, at: number, attempt = 1): PlainEvent {
    return {
      type: 'StepAttemptStarted',
      data: { runId: `${key}-${UID8}`, step: stepName, attempt, at: iso(at) },
    };
  },
  finished(
    key: string,
    stepName: string,
    at: number,
    outcome: Record<string, unknown> = { phase: 'Succeeded', exitCode: 0 },
    attempt = 1,
  ): PlainEvent {
    const data = { runId: `${key}-${UID8}`, step: stepName, attempt, ...outcome };
    return { type: 'StepAttemptFinished', data: { ...data, at: iso(at) } };
  },
  skipped(key: string, stepName: string, reason: string, at: number): PlainEvent {
    return { type: 'StepSkipped', data: { runId: `${key}-${UID8}`, step: stepName, reason, at: iso(at) } };
  },
  runFinished(key: string, phase: string, at: number, reason?: string): PlainEvent {
    const data = { runId: `${key}-${UID8}`, phase, ...(reason && { reason }) };
    return { type: 'RunFinished', data: { ...data, at: iso(at) } };
  },
};

/**
 * The world one pipeline lives in, driven the way the reconciler drives the planner: `plan()`
 * plans against the current history, Pods, logs and time; `record(plan)` folds the plan's
 * events into the history (as the event store would). Pods and time change only when a test
 * changes them.
 */
export class PipelineWorld {
  history: History = emptyHistory();
  /** Every event recorded so far, in order. */
  readonly recorded: NewEvent[] = [];
  readonly pods = new Map<string, ObservedPod>();
  readonly logs = new Map<string, PodLogs>();
  startBlocked: string | undefined;
  startGraceMs = 120_000;

  constructor(
    public pipeline: PipelineObject,
    public plugins: ReadonlyMap<string, PluginObject> = pluginMap(UTILITY, TAP, TARGET),
    public now: number = T0,
  ) {}

  input(): PlanInput {
    return {
      pipeline: this.pipeline,
      plugins: this.plugins,
      history: this.history,
      pods: [...this.pods.values()],
      logs: this.logs,
      now: this.now,
      stream: STREAM,
      startGraceMs: this.startGraceMs,
      ...(this.startBlocked !== undefined && { startBlocked: this.startBlocked }),
    };
  }

  plan(): Plan {
    return planPipeline(this.input());
  }

  record(plan: Plan): Plan {
    this.history = fold(this.history, plan.events);
    this.recorded.push(...plan.events);
    return plan;
  }

  /** Plans and records at once: one reconcile. */
  reconcile(): Plan {
    return this.record(this.plan());
  }

  /** Sets (or replaces) the observed Pod of an attempt. */
  pod(
    runKey: string,
    stepName: string,
    fields: Partial<ObservedPod> & Pick<ObservedPod, 'outcome'>,
    attempt = 1,
  ): void {
    const pod = observedPod(runKey, stepName, fields, attempt);
    this.pods.set(pod.name, pod);
  }

  /** Makes the logs of a Pod readable: container name → text. */
  log(podName: string, logs: PodLogs): void {
    this.logs.set(podName, logs);
  }
}

/** Types of a plan's events, in order. */
export const typesOf = (plan: Plan): string[] => plan.events.map((e) => e.type);

/** A compact view of a plan's actions, for exact comparison. */
export function actionsOf(plan: Plan): string[] {
  return plan.actions.map((a) => {
    switch (a.kind) {
      case 'createPod':
        return `createPod ${a.pod}`;
      case 'deletePod':
        return `deletePod ${a.pod} (${a.reason})`;
      case 'deleteSecret':
        return `deleteSecret ${a.name}`;
      case 'event':
        return `event ${a.type} ${a.reason}`;
    }
  });
}
