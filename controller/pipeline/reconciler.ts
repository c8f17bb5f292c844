/**
 * The FlexPipeline reconciler: the thin shell around the pure planner. Every reconcile
 * re-reads the world (pipeline and plugins from the informer caches, the history from the
 * event store, the owned Pods), plans, RECORDS the plan's events (with the fencing token),
 * then ACTS (Pods, Secrets, Kubernetes Events), then writes status once.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Clock } from '../clock.js';
import type { EventRecorder } from '../apply/event-recorder.js';
import type { KubeClient } from '../apply/kube-client.js';
import { isNotFound } from '../kube/api-status-error.js';
import { adHocExpiry } from './ad-hoc.js';
import { mergePatch } from '../apply/merge-patch.js';
import type { Term } from '../leadership/term.js';
import type { Logger } from '../log.js';
import { keyOf, type Cache, type PipelineObject, type PluginObject } from '../objects.js';
import {
  RequeueAfterError,
  TerminalError,
  TransientError,
  type ReconcileResult,
} from '../reconcile/errors.js';
import type { EventStore } from '../store/event-store.js';
import { isUnavailable } from '../store/errors.js';
import { holdsWholeLog, type PipelineActions } from './actions.js';
import { CONTAINERS } from './render/layout.js';
import type { Failpoints } from '../failpoints.js';
import type { HistoryCache } from './history-cache.js';
import { asRecorded, type History } from './history.js';
import { FINALIZER } from './labels.js';
import { pipelineStream } from './naming.js';
import { observePod, type ObservedPod } from './observed-pod.js';
import type { Action, CatalogFetch, CatalogRequest, Plan, PodLogs } from './plan.js';
import type { NewEvent } from '../store/recorded-event.js';
import type { CatalogStore } from '../store/catalog-store.js';
import { planPipeline } from './planner.js';
import { computeStatus } from './status.js';
import { statusWriteDelay, type WrittenStatus } from './status-coalesce.js';
import type { FlexPipelineStatus } from '../../api/v1alpha1/index.js';
import { pipelineProblem } from './validation.js';
import type { RunMetrics } from './run-metrics.js';
import type { FreshnessReporter } from './freshness-reporter.js';
import { observationsOf } from './run-observations.js';
import { runLogLines } from './run-log.js';
import { countRecords, mentionsMetrics, type RecordCounts } from './singer-records.js';

export interface PipelineReconcilerDeps {
  readonly pipelines: Cache<PipelineObject>;
  readonly plugins: Cache<PluginObject>;
  readonly podsOf: (pipelineUid: string) => readonly V1Pod[];
  readonly kube: KubeClient;
  readonly store: EventStore;
  readonly histories: HistoryCache;
  readonly actions: PipelineActions;
  readonly catalogs: CatalogStore;
  readonly events: EventRecorder;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly failpoints?: Failpoints;
  /**
   * Lets progress inside a run wait before it is written (status-coalesce.ts): real time, and a
   * way to reconcile the pipeline again when the wait is over. Without it every change is
   * written at once. Kept apart from `clock`, which tests move by hand for schedules.
   */
  readonly statusCoalescing?: {
    readonly clock: Clock;
    /** Reconcile `key` after `afterMs`, if `wanted()` still says so then. */
    readonly wake: (key: string, afterMs: number, wanted: () => boolean) => void;
  };
  /** How long a container may wait on a bad image or config before its attempt fails (2 min). */
  readonly startGraceMs?: number;
  /** Where what a recorded batch meant (runs, attempts, retries) is counted. */
  readonly runMetrics?: RunMetrics;
  /** Told of every recorded batch, to send the runs it finishes as traces (tracing/run-traces.ts); none when off. */
  readonly traces?: {
    recorded(
      pipeline: { readonly namespace: string; readonly name: string },
      before: History,
      events: ReturnType<typeof asRecorded>,
    ): void;
  };
  /** The per-pipeline freshness gauges (last run, last success, next schedule). */
  readonly freshness?: FreshnessReporter;
}

/** The default of `startGraceMs`. */
export const DEFAULT_START_GRACE_MS = 120_000;

/** The longest requeue delay: a far-away timer (a yearly schedule) is re-evaluated after this. */
export const MAX_REQUEUE_MS = 15 * 60_000;

/** How long to wait before retrying while PostgreSQL is unreachable. */
export const STORE_RETRY_MS = 2000;

const pipelinePath = (ns: string, name: string): string =>
  `/apis/flexcore.io/v1alpha1/namespaces/${ns}/flexpipelines/${name}`;

export class PipelineReconciler {
  /** Per pipeline uid, the validation verdict and what it was for (generation and plugin versions). */
  private readonly verdicts = new Map<string, { key: string; problem: ReturnType<typeof pipelineProblem> }>();
  /** The status last written per pipeline uid, and when. */
  private readonly written = new Map<string, WrittenStatus>();
  /** Per pipeline uid with a put-off status write, when the reconcile asked for comes. */
  private readonly wakes = new Map<string, number>();

  constructor(private readonly deps: PipelineReconcilerDeps) {}

  /**
   * Reconciles one pipeline under `term`, the leadership of its scope: appends carry the term's
   * fencing token and every Kubernetes write asks the term first.
   */
  readonly reconcile = async (key: string, term: Term): Promise<ReconcileResult | void> => {
    const cached = this.deps.pipelines.get(key);
    if (!cached) return;
    // The informer's copy is deep-frozen; the reconciler only replaces metadata, never edits in place.
    const p = { ...cached, metadata: { ...cached.metadata } } as PipelineObject;
    const finalizers = p.metadata.finalizers ?? [];
    if (!p.metadata.deletionTimestamp && !finalizers.includes(FINALIZER)) {
      // Go on with the object as patched, rather than waiting for the informer to bring it back.
      const patched = await this.setFinalizers(p, [...finalizers, FINALIZER], term);
      if (!patched) return;
      p.metadata = {
        ...p.metadata,
        finalizers: patched.metadata.finalizers,
        resourceVersion: patched.metadata.resourceVersion,
      };
    }
    if (p.metadata.deletionTimestamp && !finalizers.includes(FINALIZER)) return;
    try {
      return await this.converge(p, term);
    } catch (err) {
      if (isUnavailable(err)) {
        throw new RequeueAfterError(`unreachable, retrying: ${(err as Error).message}`, STORE_RETRY_MS, {
          cause: err,
        });
      }
      if (
        (err as Error).name === 'WrongExpectedVersionError' ||
        (err as Error).name === 'DuplicateBatchError'
      ) {
        this.deps.histories.forget(pipelineStream(p.metadata.uid));
        throw new TransientError((err as Error).message, { cause: err });
      }
      if ((err as Error).name === 'StaleFencingTokenError') {
        // Someone newer leads this scope: what this replica knows of the stream may be stale.
        this.deps.histories.forget(pipelineStream(p.metadata.uid));
        term.revoke((err as Error).message);
      }
      throw err;
    }
  };

  /** A pipeline is gone: forget it, and drop its per-pipeline series from the run metrics. */
  deleted(p: PipelineObject): void {
    this.forget(p.metadata.uid);
    this.deps.runMetrics?.forget(p.metadata.namespace, p.metadata.name);
  }

  /** Drops what is remembered of a pipeline whose scope this replica no longer (or newly) leads. */
  forget(uid: string): void {
    this.deps.histories.forget(pipelineStream(uid));
    this.deps.actions.forget(uid);
    this.written.delete(uid);
    this.verdicts.delete(uid);
    this.wakes.delete(uid);
    this.deps.freshness?.forget(uid);
  }

  /** pipelineProblem, again only when the spec or a plugin of the namespace changed (it runs the schema). */
  private problemOf(
    p: PipelineObject,
    plugins: ReadonlyMap<string, PluginObject>,
  ): ReturnType<typeof pipelineProblem> {
    const versions = [...plugins.values()].map((x) => `${x.metadata.name}@${x.metadata.resourceVersion}`);
    const key = `${p.metadata.generation}/${versions.join(',')}`;
    const known = this.verdicts.get(p.metadata.uid);
    if (known?.key === key) return known.problem;
    const problem = pipelineProblem(p, plugins);
    this.verdicts.set(p.metadata.uid, { key, problem });
    return problem;
  }

  private pluginsOf(ns: string): Map<string, PluginObject> {
    const plugins = this.deps.plugins.list().filter((x) => x.metadata.namespace === ns);
    return new Map(plugins.map((x) => [x.metadata.name, x as PluginObject]));
  }

  private async converge(p: PipelineObject, term: Term): Promise<ReconcileResult | void> {
    const { clock, histories } = this.deps;
    const stream = pipelineStream(p.metadata.uid);
    const plugins = this.pluginsOf(p.metadata.namespace);
    const invalid = p.metadata.deletionTimestamp ? undefined : this.problemOf(p, plugins);
    const history = await histories.load(stream);
    const pods = this.deps
      .podsOf(p.metadata.uid)
      .map(observePod)
      .filter((x): x is ObservedPod => !!x);
    const now = clock.now();
    const input = {
      pipeline: p,
      plugins,
      history,
      pods,
      now,
      stream,
      logs: new Map<string, PodLogs>(),
      recordCounts: new Map<string, Record<string, RecordCounts>>(),
      catalogs: new Map<string, CatalogFetch>(),
      startBlocked: invalid?.message,
      startGraceMs: this.deps.startGraceMs ?? DEFAULT_START_GRACE_MS,
    };
    let plan = planPipeline(input);
    // What a pass asks for is read and the pass planned again: logs of finished Pods, then
    // catalogs (a discovery's catalog can lead on to a cached one in the same reconcile).
    for (let pass = 0; pass < 3 && (plan.needLogs.size > 0 || plan.needCatalogs.size > 0); pass++) {
      for (const [pod, read] of await this.readLogs(p, pods, plan.needLogs)) {
        input.logs.set(pod, read.logs);
        input.recordCounts.set(pod, read.counts);
      }
      for (const [id, fetched] of await this.readCatalogs(p, plan.needCatalogs))
        input.catalogs.set(id, fetched);
      plan = planPipeline(input);
    }
    const after = await this.record(p, stream, history, plan, term);
    const stuck = await this.actOrStall(p, plugins, after, plan.actions, term);
    if (p.metadata.deletionTimestamp) return this.release(p, after, pods, term);
    await this.writeStatus(
      term,
      p,
      computeStatus({
        pipeline: p,
        plugins,
        history: after,
        pods,
        now,
        invalid: invalid ?? stuck,
        waiting: plan.waiting,
      }),
    );
    if (this.deps.freshness) {
      term.assertMayWrite(); // only the leader reports: a scope lost meanwhile stops here
      await this.deps.freshness.report(p, after, plugins, now);
    }
    // Shown in status (Ready=False, Stalled) above; not retried until something changes.
    if (stuck) throw new TerminalError(stuck.message, stuck.reason);
    const expiry = adHocExpiry(p, after, now);
    if (expiry && 'deleteNow' in expiry) {
      await this.deleteAdHoc(p, term);
      return;
    }
    const wakeAt = Math.min(plan.wakeAt ?? Infinity, expiry?.deleteAt ?? Infinity);
    return wakeAt === Infinity
      ? undefined
      : { requeueAfterMs: Math.min(Math.max(wakeAt - clock.now(), 0) + 50, MAX_REQUEUE_MS) };
  }

  /** An ad hoc pipeline past its TTL goes; the finalizer flow then records it like any deletion. */
  private async deleteAdHoc(p: PipelineObject, term: Term): Promise<void> {
    const path = `/apis/flexcore.io/v1alpha1/namespaces/${p.metadata.namespace}/flexpipelines/${p.metadata.name}`;
    try {
      await this.deps.kube.delete(path, { preconditions: { uid: p.metadata.uid } }, term);
      this.deps.logger.info('deleted an ad hoc pipeline after its TTL', {
        namespace: p.metadata.namespace,
        pipeline: p.metadata.name,
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** The log tails of finished Pods, and the Singer record counts of those that log METRIC lines. */
  private async readLogs(
    p: PipelineObject,
    pods: readonly ObservedPod[],
    names: ReadonlySet<string>,
  ): Promise<Map<string, { logs: PodLogs; counts: Record<string, RecordCounts> }>> {
    const ns = p.metadata.namespace;
    const read = new Map<string, { logs: PodLogs; counts: Record<string, RecordCounts> }>();
    for (const pod of pods.filter((x) => names.has(x.name))) {
      const texts = await Promise.all(pod.containers.map((c) => this.deps.actions.readLog(ns, pod.name, c)));
      const counts: Record<string, RecordCounts> = {};
      for (const [i, container] of pod.containers.entries()) {
        const text = texts[i]!;
        // A discovery syncs no records (and its log is read by bytes, not lines).
        if (container === CONTAINERS.discover || !mentionsMetrics(text)) continue;
        // A tail shorter than the lines asked for is the whole log; else read it all, line by line.
        const c = holdsWholeLog(text)
          ? countRecords(text)
          : await this.deps.actions.countRecords(ns, pod.name, container);
        if (c) counts[container] = c;
      }
      read.set(pod.name, { logs: Object.fromEntries(pod.containers.map((c, i) => [c, texts[i]!])), counts });
    }
    return read;
  }

  private async readCatalogs(
    p: PipelineObject,
    requests: ReadonlyMap<string, CatalogRequest>,
  ): Promise<Map<string, CatalogFetch>> {
    const fetched = new Map<string, CatalogFetch>();
    for (const [id, r] of requests) {
      fetched.set(
        id,
        r.kind === 'cached'
          ? await this.deps.catalogs.cached(r.key)
          : await this.deps.actions.readConfigMapCatalog(p.metadata.namespace, r.name, r.key),
      );
    }
    return fetched;
  }

  /** Appends the plan's events (catalog bodies they name first); returns the history they lead to. */
  private async record(
    p: PipelineObject,
    stream: string,
    history: History,
    plan: Plan,
    term: Term,
  ): Promise<History> {
    if (plan.events.length === 0) return history;
    await this.deps.catalogs.put(plan.blobs);
    const expected = history.version < 0 ? 'no_stream' : history.version;
    this.deps.failpoints?.hit('before-append');
    const result = await this.deps.store.append(stream, expected, plan.events, term.fencing);
    if (result.duplicate) {
      this.deps.histories.forget(stream);
      return this.deps.histories.load(stream);
    }
    this.deps.failpoints?.hit('after-append');
    const after = this.deps.histories.remember(
      stream,
      plan.history,
      result.positions[result.positions.length - 1]!,
    );
    // Counted once, by the writer: a duplicate batch (already recorded) was counted then.
    this.deps.runMetrics?.report(p.metadata.namespace, p.metadata.name, observationsOf(plan.events, after));
    this.observe(p, history, plan.events, result.positions);
    return after;
  }

  /** Run log lines and traces of a recorded batch: never a reason for the reconcile to fail. */
  private observe(
    p: PipelineObject,
    before: History,
    events: readonly NewEvent[],
    positions: readonly number[],
  ): void {
    try {
      for (const line of runLogLines(p.metadata, events, this.deps.traces !== undefined))
        this.deps.logger[line.level](line.message, line.fields);
      this.deps.traces?.recorded(p.metadata, before, asRecorded(events, before.version, positions));
    } catch (err) {
      this.deps.logger.warn('a recorded batch could not be logged or traced', {
        namespace: p.metadata.namespace,
        pipeline: p.metadata.name,
        error: (err as Error).message,
      });
    }
  }

  /**
   * Acts; an action that cannot succeed as things are (a TerminalError, e.g. a Pod name taken by
   * someone else's Pod) becomes the reason the status shows, with a Warning Event, instead of
   * a log line only.
   */
  private async actOrStall(
    p: PipelineObject,
    plugins: ReadonlyMap<string, PluginObject>,
    h: History,
    actions: readonly Action[],
    term: Term,
  ): Promise<{ reason: string; message: string } | undefined> {
    try {
      await this.act(p, plugins, h, actions, term);
      return undefined;
    } catch (err) {
      if ((err as Error).name !== 'TerminalError') throw err;
      const { reason, message } = err as TerminalError;
      await this.deps.events.record(p, { type: 'Warning', reason, note: message, key: reason }, term);
      return { reason, message };
    }
  }

  private async act(
    p: PipelineObject,
    plugins: ReadonlyMap<string, PluginObject>,
    h: History,
    actions: readonly Action[],
    term: Term,
  ): Promise<void> {
    const ns = p.metadata.namespace;
    for (const a of actions) {
      if (a.kind === 'createPod') {
        const run = h.runs.find((r) => r.id === a.runId);
        const step = run?.spec.steps.find((s) => s.name === a.step);
        if (run && step)
          await this.deps.actions.createAttempt(p, plugins, run, step, a.attempt, a.pod, term, a.discover);
      } else if (a.kind === 'deletePod') await this.deps.actions.deletePod(ns, a.pod, term);
      else if (a.kind === 'deleteSecret') await this.deps.actions.deleteSecret(ns, a.name, term);
      else
        await this.deps.events.record(
          p,
          { type: a.type, reason: a.reason, note: a.note, key: a.key ?? a.reason },
          term,
        );
    }
    if (actions.length > 0) this.deps.failpoints?.hit('after-act');
  }

  /** Deleting: once the deletion is recorded and no Pod still runs, let the pipeline go. */
  private async release(
    p: PipelineObject,
    h: History,
    pods: readonly ObservedPod[],
    term: Term,
  ): Promise<ReconcileResult | void> {
    const running = pods.filter((x) => !x.deleting && (x.outcome === 'Running' || x.outcome === 'Pending'));
    if (!h.deleted || running.length > 0) return { requeueAfterMs: 1000 };
    await this.setFinalizers(
      p,
      (p.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
      term,
    );
    this.forget(p.metadata.uid);
  }

  /** Sets the finalizers; the patched object, or undefined when the pipeline is gone. */
  private async setFinalizers(
    p: PipelineObject,
    finalizers: string[],
    term: Term,
  ): Promise<PipelineObject | undefined> {
    const { namespace, name, resourceVersion } = p.metadata;
    try {
      // resourceVersion makes it a compare-and-swap: another writer's finalizer is never lost.
      return await this.deps.kube.patch<PipelineObject>(
        pipelinePath(namespace, name),
        { metadata: { finalizers, resourceVersion } },
        'merge',
        term,
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
      return undefined;
    }
  }

  /** Writes status unless unchanged, or puts off a write that may wait (and reconciles again then). */
  private async writeStatus(term: Term, p: PipelineObject, status: FlexPipelineStatus): Promise<void> {
    const uid = p.metadata.uid;
    const previous = this.written.get(uid);
    // The cache may not show our last write yet; compare with what we wrote last.
    if (mergePatch(previous?.status ?? p.status ?? {}, status) === undefined) return;
    const coalescing = this.deps.statusCoalescing;
    const now = coalescing?.clock.now() ?? 0;
    const wait = coalescing ? statusWriteDelay(previous, status, now) : 0;
    if (coalescing && wait > 0) {
      if ((this.wakes.get(uid) ?? 0) <= now) {
        this.wakes.set(uid, now + wait);
        // A write in the meantime (the run ended) wrote the progress too: then the wake is moot.
        coalescing.wake(keyOf(p.metadata), wait, () => this.wakes.has(uid));
      }
      return;
    }
    const { namespace, name } = p.metadata;
    try {
      // The whole status at once: a merge patch against a stale copy would leave old fields behind.
      await this.deps.kube.patch(
        `${pipelinePath(namespace, name)}/status`,
        [{ op: 'add', path: '/status', value: status }],
        'json',
        term,
      );
      this.written.set(uid, { status, at: now });
      this.wakes.delete(uid);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.deps.logger.debug('status written', {
      pipeline: keyOf(p.metadata),
      phase: status.phase,
    });
  }
}
