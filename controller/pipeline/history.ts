/**
 * The history of one pipeline, folded from its event stream: active runs in full, a bounded
 * number of finished ones, and what the triggers have already acted on. The event stream is
 * the source of truth; this is only a view of it (pure, no I/O).
 */
import type { FlexPipelineSpec, RunPhase, RunTrigger } from '../../api/v1alpha1/index.js';
import type { RecordedEvent } from '../store/recorded-event.js';

export type AttemptPhase =
  'Discovering' | 'Scheduled' | 'Running' | 'Succeeded' | 'Failed' | 'TimedOut' | 'Cancelled';
export const FINISHED_ATTEMPT: ReadonlySet<AttemptPhase> = new Set([
  'Succeeded',
  'Failed',
  'TimedOut',
  'Cancelled',
]);

export interface AttemptState {
  attempt: number;
  pod: string;
  scheduledAt: number;
  startedAt?: number;
  finishedAt?: number;
  phase: AttemptPhase;
  exitCode?: number;
  reason?: string;
  message?: string;
  /** The cache key of the catalog the attempt's discovery Pod discovers for. */
  catalogKey?: string;
  /** When the attempt's discovery Pod was scheduled, if it began with one (scheduledAt is then the sync Pod's). */
  discoveryScheduledAt?: number;
  /** The final catalog of the sync Pod, by digest. */
  catalog?: { digest: string; flag: '--catalog' | '--properties' };
  /** The sync Pod's config comes from its annotation: it has no config Secret. */
  inlineConfig?: boolean;
}

export interface StepState {
  attempts: AttemptState[];
  /** Set when the step never ran: upstream failed, or the run was cancelled first. */
  skipped?: { reason: string; at: number };
}

export interface RunState {
  id: string;
  key: string;
  trigger: RunTrigger;
  generation?: number;
  startedAt: number;
  finishedAt?: number;
  phase: RunPhase;
  reason?: string;
  /** Steps whose stored Singer state this run ignores ('*' for all). */
  fullRefresh: string[];
  /** The pipeline spec when the run started: a run finishes as it began, whatever edits follow. */
  spec: FlexPipelineSpec;
  steps: Record<string, StepState>;
}

export interface History {
  /** Stream version of the last folded event; -1 for an empty stream. */
  version: number;
  /** Global position of the last folded event. */
  lastPosition?: number;
  /** Runs in start order: every active one, and the most recent finished ones. */
  runs: RunState[];
  /** The highest spec generation a run was started for. */
  lastGeneration?: number;
  /** The last run-requested annotation value acted on. */
  lastRequest?: string;
  /** The last schedule tick acted on (run or skipped), ms since the epoch. */
  lastTickMs?: number;
  lastScheduleTime?: number;
  /** The pipeline's deletion was recorded. */
  deleted: boolean;
  /** Per step, the last flexcore.io/rediscover value a discovery answered. */
  rediscovered?: Record<string, string>;
}

/** The most finished runs held in memory: the largest history limits (100 + 100). */
export const MAX_FINISHED_RUNS = 200;

export function emptyHistory(): History {
  return { version: -1, runs: [], deleted: false };
}

export function isActive(run: RunState): boolean {
  return run.phase === 'Pending' || run.phase === 'Running';
}

/** Event time: the `at` the controller wrote, or the time it was recorded. */
function timeOf(event: Pick<RecordedEvent, 'data' | 'recordedAt'>): number {
  const at = event.data.at;
  return typeof at === 'string' ? Date.parse(at) : event.recordedAt.getTime();
}

type Data = Record<string, unknown>;
const str = (d: Data, k: string): string => String(d[k]);
const num = (d: Data, k: string): number | undefined => (typeof d[k] === 'number' ? d[k] : undefined);

function lastAttempt(run: RunState | undefined, d: Data): AttemptState | undefined {
  return run?.steps[str(d, 'step')]?.attempts.find((a) => a.attempt === num(d, 'attempt'));
}

function stepOf(run: RunState, step: string): StepState {
  return (run.steps[step] ??= { attempts: [] });
}

type Folder = (h: History, d: Data, at: number) => void;

const runOf = (h: History, d: Data): RunState | undefined => h.runs.find((r) => r.id === d.runId);

const FOLDERS: Record<string, Folder> = {
  RunStarted(h, d, at) {
    const trigger = str(d, 'trigger') as RunTrigger;
    const run: RunState = {
      id: str(d, 'runId'),
      key: str(d, 'runKey'),
      trigger,
      generation: num(d, 'generation'),
      startedAt: at,
      phase: 'Pending',
      fullRefresh: Array.isArray(d.fullRefresh) ? d.fullRefresh.map(String) : [],
      spec: d.spec as FlexPipelineSpec,
      steps: {},
    };
    h.runs.push(run);
    if (trigger === 'Generation') h.lastGeneration = Math.max(h.lastGeneration ?? 0, run.generation ?? 0);
    if (trigger === 'Manual') h.lastRequest = str(d, 'request');
    if (trigger === 'Schedule') {
      h.lastTickMs = num(d, 'tickMs');
      h.lastScheduleTime = at;
    }
  },
  ScheduleTickSkipped(h, d) {
    h.lastTickMs = num(d, 'tickMs');
  },
  RunFinished(h, d, at) {
    const run = runOf(h, d);
    if (!run || !isActive(run)) return;
    run.phase = str(d, 'phase') as RunPhase;
    run.reason = d.reason === undefined ? undefined : str(d, 'reason');
    run.finishedAt = at;
  },
  CatalogDiscoveryScheduled(h, d, at) {
    const run = runOf(h, d);
    if (!run || !isActive(run) || lastAttempt(run, d)) return;
    stepOf(run, str(d, 'step')).attempts.push({
      attempt: num(d, 'attempt') ?? 1,
      pod: str(d, 'pod'),
      scheduledAt: at,
      phase: 'Discovering',
      catalogKey: str(d, 'catalogKey'),
    });
    if (typeof d.rediscover === 'string') (h.rediscovered ??= {})[str(d, 'step')] = d.rediscover;
    run.phase = 'Running';
  },
  StepAttemptScheduled(h, d, at) {
    const run = runOf(h, d);
    if (!run || !isActive(run)) return;
    const existing = lastAttempt(run, d);
    if (existing && existing.phase !== 'Discovering') return;
    const catalog = d.catalog as { digest: string; flag: '--catalog' | '--properties' } | undefined;
    const attempt: AttemptState = existing ?? {
      attempt: num(d, 'attempt') ?? 1,
      pod: '',
      scheduledAt: at,
      phase: 'Scheduled',
    };
    // After a discovery the attempt goes on in its sync Pod, timed from now.
    if (existing) attempt.discoveryScheduledAt = existing.scheduledAt;
    Object.assign(attempt, { pod: str(d, 'pod'), scheduledAt: at, phase: 'Scheduled' });
    if (catalog) attempt.catalog = { digest: catalog.digest, flag: catalog.flag };
    if (d.config === 'inline') attempt.inlineConfig = true;
    if (!existing) stepOf(run, str(d, 'step')).attempts.push(attempt);
    run.phase = 'Running';
  },
  StepAttemptStarted(h, d, at) {
    const attempt = lastAttempt(runOf(h, d), d);
    if (!attempt || attempt.phase !== 'Scheduled') return;
    attempt.phase = 'Running';
    attempt.startedAt = at;
  },
  StepAttemptFinished(h, d, at) {
    const attempt = lastAttempt(runOf(h, d), d);
    if (!attempt || FINISHED_ATTEMPT.has(attempt.phase)) return;
    attempt.phase = str(d, 'phase') as AttemptPhase;
    attempt.exitCode = num(d, 'exitCode');
    attempt.reason = d.reason === undefined ? undefined : str(d, 'reason');
    if (d.message !== undefined) attempt.message = str(d, 'message');
    attempt.finishedAt = at;
  },
  StepSkipped(h, d, at) {
    const run = runOf(h, d);
    if (!run) return;
    stepOf(run, str(d, 'step')).skipped = { reason: str(d, 'reason'), at };
  },
  PipelineDeleted(h) {
    h.deleted = true;
  },
};

/** Events as the store recorded them: after stream version `before`, at the given positions. */
export function asRecorded(
  events: readonly { readonly type: string; readonly data: Record<string, unknown> }[],
  before: number,
  positions: readonly number[],
): Pick<RecordedEvent, 'type' | 'data' | 'recordedAt' | 'streamVersion' | 'position'>[] {
  return events.map((e, i) => ({
    type: e.type,
    data: e.data,
    recordedAt: new Date(typeof e.data.at === 'string' ? e.data.at : 0),
    streamVersion: before + 1 + i,
    position: positions[i] ?? 0,
  }));
}

/** Applies one event to the history, in place. Unknown types only advance the version. */
export function applyEvent(
  h: History,
  event: Pick<RecordedEvent, 'type' | 'data' | 'recordedAt' | 'streamVersion' | 'position'>,
): void {
  FOLDERS[event.type]?.(h, event.data, timeOf(event));
  h.version = event.streamVersion;
  h.lastPosition = event.position;
  pruneFinished(h);
}

/** Folds events (in stream order) onto a copy of `base`. */
export function foldHistory(
  events: readonly Pick<RecordedEvent, 'type' | 'data' | 'recordedAt' | 'streamVersion' | 'position'>[],
  base: History = emptyHistory(),
): History {
  const h = structuredClone(base);
  for (const e of events) applyEvent(h, e);
  return h;
}

/**
 * Finished runs worth holding: as many as the newest run's history limits keep Pods for, and
 * one more (the last run). Pods of older runs are still found and expired (cleanup.ts), and the
 * triggers keep their own marks (last generation, request, tick), so nothing needs older runs;
 * a cron pipeline would otherwise hold up to MAX_FINISHED_RUNS runs, each with its spec.
 */
function finishedRunsKept(h: History): number {
  const spec = h.runs[h.runs.length - 1]?.spec;
  const limits = (spec?.successfulRunsHistoryLimit ?? 3) + (spec?.failedRunsHistoryLimit ?? 1);
  return Math.min(MAX_FINISHED_RUNS, limits + 1);
}

function pruneFinished(h: History): void {
  const finished = h.runs.filter((r) => !isActive(r));
  const kept = finishedRunsKept(h);
  if (finished.length <= kept) return;
  const drop = new Set(finished.slice(0, finished.length - kept));
  h.runs = h.runs.filter((r) => !drop.has(r));
}
