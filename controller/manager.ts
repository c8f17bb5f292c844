/**
 * Wiring of the engine (controller-runtime's Manager, small): informers for FlexPipelines,
 * FlexPlugins and owned Pods feed two work queues; the reconcilers run on the leader; the
 * health of informers and event store decides readiness.
 */
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import type { ClusterAccess } from './kube/cluster-access.js';
import type pg from 'pg';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { EventRecorder } from './apply/event-recorder.js';
import { KubeClient } from './apply/kube-client.js';
import { systemClock, type Clock } from './clock.js';
import type { Failpoints } from './failpoints.js';
import { informerMetrics } from './kube/informer-metrics.js';
import { informerFor } from './kube/namespaced-informers.js';
import { defaultControllerRateLimiter } from './kube/rate-limiter.js';
import type { ResourceInformer } from './kube/resource-informer.js';
import { queueMetrics } from './kube/queue-metrics.js';
import { WorkQueue } from './kube/work-queue.js';
import { Buckets } from './leadership/buckets.js';
import { isLeadershipLost } from './leadership/errors.js';
import { SingleReplicaLeadership, type Leadership, type LeadershipChange } from './leadership/leadership.js';
import type { Term } from './leadership/term.js';
import { silentLogger, type Logger } from './log.js';
import { keyOf, type PipelineObject, type PluginObject } from './objects.js';
import { PipelineActions } from './pipeline/actions.js';
import { HistoryCache } from './pipeline/history-cache.js';
import { LABELS, MANAGED_SELECTOR } from './pipeline/labels.js';
import { usesPlugin } from './pipeline/plugin-use.js';
import { podUpdateMatters, slimPod } from './pipeline/slim-pod.js';
import { RunMetrics } from './pipeline/run-metrics.js';
import { FreshnessMetrics } from './pipeline/freshness-metrics.js';
import { FreshnessReporter } from './pipeline/freshness-reporter.js';
import { PodIndex } from './pipeline/pod-index.js';
import { PipelineReconciler } from './pipeline/reconciler.js';
import { PluginReconciler } from './plugin/reconciler.js';
import { Controller } from './reconcile/controller.js';
import { reconcileMetrics } from './reconcile/metrics.js';
import type { Reconcile, ReconcileResult } from './reconcile/errors.js';
import { EventStore } from './store/event-store.js';
import { storeMetrics } from './store/metrics.js';
import { migrate } from './store/migrate.js';
import { CatalogStore } from './store/catalog-store.js';
import { ReadModels } from './store/read-models.js';
import { StoreHealth } from './store-health.js';
import type { ControllerStatusBody } from './server/schemas.js';
import { version } from './version.js';
import type { RunTracer } from './tracing/run-tracer.js';
import { RunTraces } from './tracing/run-traces.js';
import type { TracingConfig } from './tracing/tracing-config.js';

export interface ManagerOptions {
  readonly kubeConfig: ClusterAccess;
  readonly pool: pg.Pool;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly registry?: Registry;
  /** Concurrent pipeline reconciles (controller-runtime's MaxConcurrentReconciles). */
  readonly workers?: number;
  /** Client-side limit of Kubernetes API requests per second, and its burst. */
  readonly qps?: number;
  readonly burst?: number;
  /**
   * Watch only these namespaces (all when unset or empty): one informer per namespace for
   * several, so no cluster-wide list or watch permission is needed.
   */
  readonly namespaces?: readonly string[];
  /** Leader election; by default a single replica that leads every scope (no election). */
  readonly leadership?: Leadership;
  readonly failpoints?: Failpoints;
  /** How long a step container may wait on a bad image or config before its attempt fails (2 min). */
  readonly startGraceMs?: number;
  /** Informer resync period (10 min). */
  readonly resyncMs?: number;
  /** Export each finished run as a trace (OTLP/HTTP); off when unset. */
  readonly tracing?: TracingConfig;
}

const GROUP_PATH = '/apis/flexcore.io/v1alpha1';

function collection(base: string, plural: string, namespace?: string): string {
  return namespace ? `${base}/namespaces/${namespace}/${plural}` : `${base}/${plural}`;
}

/** Only changes a reconcile cares about: spec, annotations, finalizers, deletion (not our own status writes). */
function worthReconciling(a: KubernetesObject, b: KubernetesObject): boolean {
  const m = (o: KubernetesObject): unknown => [
    o.metadata?.generation,
    o.metadata?.annotations,
    o.metadata?.finalizers,
    o.metadata?.deletionTimestamp,
  ];
  return a === b || JSON.stringify(m(a)) !== JSON.stringify(m(b));
}

/** A reconcile that runs under the term of its key's scope. */
type LedReconcile = (key: string, term: Term) => Promise<ReconcileResult | void>;

export class Manager {
  readonly registry: Registry;
  readonly pipelines: ResourceInformer<PipelineObject>;
  readonly plugins: ResourceInformer<PluginObject>;
  readonly pods: ResourceInformer<V1Pod>;
  readonly pipelineController: Controller;
  readonly pluginController: Controller;
  readonly storeHealth: StoreHealth;
  private readonly podIndex = new PodIndex();
  private readonly histories: HistoryCache;
  private readonly logger: Logger;
  private readonly pipelineReconciler: PipelineReconciler;

  private constructor(
    private readonly options: ManagerOptions,
    private readonly leadership: Leadership,
    readonly store: EventStore,
    private readonly tracer?: RunTracer,
  ) {
    const clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.registry = options.registry ?? new Registry();
    const kc = options.kubeConfig;
    const informerOpts = {
      kubeConfig: kc,
      logger: this.logger,
      clock,
      metrics: informerMetrics(this.registry),
      resyncMs: options.resyncMs,
      namespaces: options.namespaces ?? [],
    };
    this.pipelines = informerFor<PipelineObject>({
      ...informerOpts,
      path: (ns) => collection(GROUP_PATH, 'flexpipelines', ns),
    });
    this.plugins = informerFor<PluginObject>({
      ...informerOpts,
      path: (ns) => collection(GROUP_PATH, 'flexplugins', ns),
    });
    this.pods = informerFor<V1Pod>({
      ...informerOpts,
      path: (ns) => collection('/api/v1', 'pods', ns),
      labelSelector: MANAGED_SELECTOR,
      transform: slimPod,
    });
    const kube = new KubeClient(kc, {
      qps: options.qps,
      burst: options.burst,
      registry: this.registry,
      clock,
    });
    this.histories = new HistoryCache(store);
    this.storeHealth = new StoreHealth(store, this.logger, clock, this.registry);
    const common = { kube, clock };
    const catalogs = new CatalogStore(options.pool);
    const readModels = new ReadModels(options.pool);
    this.pipelineReconciler = new PipelineReconciler({
      ...common,
      pipelines: this.pipelines,
      plugins: this.plugins,
      podsOf: (uid) => this.podIndex.podsOf(uid),
      store,
      histories: this.histories,
      actions: new PipelineActions(kube, readModels, catalogs, this.logger, tracer !== undefined),
      catalogs,
      events: new EventRecorder(kube, this.logger, () => clock.now()),
      logger: this.logger.child({ controller: 'flexpipeline' }),
      failpoints: options.failpoints,
      startGraceMs: options.startGraceMs,
      runMetrics: RunMetrics.of(this.registry),
      traces: tracer && new RunTraces(tracer),
      freshness: new FreshnessReporter(FreshnessMetrics.of(this.registry), (ns, name) =>
        readModels.pipelineFreshness(ns, name),
      ),
      statusCoalescing: {
        clock: systemClock,
        wake: (key, afterMs, wanted) => this.wakeLater(key, afterMs, wanted),
      },
    });
    const pluginReconciler = new PluginReconciler({ ...common, plugins: this.plugins });
    const controller = (name: string, reconcile: LedReconcile, workers: number): Controller =>
      this.newController(name, reconcile, workers, clock);
    this.pipelineController = controller(
      'flexpipeline',
      this.pipelineReconciler.reconcile,
      options.workers ?? 8,
    );
    this.pluginController = controller('flexplugin', pluginReconciler.reconcile, 2);
    this.wire();
  }

  /** A controller over the keys this replica leads, with its own rate-limited work queue. */
  private newController(name: string, reconcile: LedReconcile, workers: number, clock: Clock): Controller {
    return new Controller({
      name,
      reconcile: this.underTerm(name, reconcile),
      workers,
      logger: this.logger.child({ controller: name }),
      clock,
      metrics: reconcileMetrics(this.registry),
      queue: new WorkQueue({
        name,
        clock,
        rateLimiter: defaultControllerRateLimiter(clock),
        metrics: queueMetrics(this.registry),
      }),
    });
  }

  /**
   * Migrates the store, starts informers and waits for their sync, starts the reconcilers, then
   * takes part in the election: keys are reconciled only in the scopes this replica leads.
   */
  static async start(options: ManagerOptions): Promise<Manager> {
    await migrate(options.pool);
    const readModels = new ReadModels(options.pool);
    const leadership =
      options.leadership ??
      new SingleReplicaLeadership(new Buckets(1), (scope) => readModels.raiseFence(scope));
    const registry = options.registry ?? new Registry();
    collectDefaultMetrics({ register: registry });
    // The SDK is loaded only when tracing is on.
    const tracer = options.tracing
      ? new (await import('./tracing/run-tracer.js')).RunTracer(
          options.tracing,
          options.logger ?? silentLogger,
        )
      : undefined;
    const m = new Manager(
      { ...options, registry },
      leadership,
      new EventStore(options.pool, storeMetrics(registry)),
      tracer,
    );
    m.storeHealth.start();
    await Promise.all([m.pipelines.start(), m.plugins.start(), m.pods.start()]);
    m.pluginController.start();
    m.pipelineController.start();
    leadership.onChange((change) => m.scopeChanged(change));
    await leadership.start();
    for (const s of leadership.scopes()) if (s.leading) m.scopeChanged({ ...s, held: true });
    m.logger.info('controller started', { identity: leadership.identity, scopes: leadership.details() });
    return m;
  }

  /**
   * Runs a reconcile under the term of its key's scope; a key whose scope this replica does not
   * lead is dropped (its leader reconciles it). A reconcile that finds it lost the scope midway
   * stops quietly: nothing it would write can be written any more.
   */
  private underTerm(controller: string, reconcile: LedReconcile): Reconcile {
    return async (key) => {
      const term = this.leadership.termFor(key);
      if (!term) return;
      try {
        return await reconcile(key, term);
      } catch (err) {
        if (!isLeadershipLost(err)) throw err;
        this.logger.info('stopped a reconcile: this replica no longer leads its scope', {
          controller,
          key,
          scope: term.scope,
          reason: (err as Error).message,
        });
      }
    };
  }

  /** Gained: what is remembered of the scope's pipelines may be old, so forget it and reconcile them all. Lost: forget. */
  private scopeChanged(change: LeadershipChange): void {
    const inBucket = <T extends KubernetesObject>(list: readonly T[]): T[] =>
      list.filter((o) => this.leadership.buckets.of(keyOf(o.metadata ?? {})) === change.bucket);
    for (const p of inBucket(this.pipelines.list())) {
      this.pipelineReconciler.forget(p.metadata.uid);
      if (change.held) this.pipelineController.enqueue(keyOf(p.metadata));
    }
    if (change.held)
      for (const p of inBucket(this.plugins.list())) this.pluginController.enqueue(keyOf(p.metadata));
  }

  /** Reconciles `key` again after `afterMs` of real time, if still wanted and led by this replica then. */
  private wakeLater(key: string, afterMs: number, wanted: () => boolean): void {
    systemClock.setTimer(() => {
      if (wanted() && this.leads(key)) this.pipelineController.enqueue(key);
    }, afterMs);
  }

  private leads(key: string): boolean {
    return this.leadership.termFor(key) !== undefined;
  }

  private wire(): void {
    const pipelines = this.pipelineController;
    // Keys of scopes led elsewhere never enter the queue: a standby's reconcile count stays 0.
    const enqueue = (o: KubernetesObject): void => {
      const key = keyOf(o.metadata ?? {});
      if (this.leads(key)) pipelines.enqueue(key);
    };
    this.pipelines
      .onAdd(enqueue)
      .onUpdate((a, b) => {
        if (worthReconciling(a, b)) enqueue(b);
      })
      .onDelete((o) => this.pipelineReconciler.deleted(o));
    const pluginChanged = (o: PluginObject): void => {
      if (this.leads(keyOf(o.metadata))) this.pluginController.enqueue(keyOf(o.metadata));
      for (const p of this.pipelines.list()) if (usesPlugin(p, o)) enqueue(p);
    };
    this.plugins
      .onAdd(pluginChanged)
      .onUpdate((a, b) => {
        if (worthReconciling(a, b)) pluginChanged(b);
      })
      .onDelete(pluginChanged);
    const podChanged = (pod: V1Pod): void => {
      const name = pod.metadata?.labels?.[LABELS.pipeline];
      const key = `${pod.metadata?.namespace ?? ''}/${name}`;
      if (name && this.leads(key)) pipelines.enqueue(key);
    };
    this.pods
      .onAdd((p) => {
        this.podIndex.upsert(p);
        podChanged(p);
      })
      .onUpdate((before, p) => {
        this.podIndex.upsert(p);
        if (podUpdateMatters(before, p)) podChanged(p);
      })
      .onDelete((p) => {
        this.podIndex.remove(p);
        podChanged(p);
      });
  }

  /**
   * Ready: every informer synced and the event store reachable. A standby is ready too: it
   * serves the API and takes over at once. Details say what this replica leads.
   */
  readiness(): { ready: boolean; checks: Record<string, boolean>; details: Record<string, unknown> } {
    const checks = {
      informers: this.pipelines.hasSynced() && this.plugins.hasSynced() && this.pods.hasSynced(),
      eventStore: this.storeHealth.available,
      leader: this.leadership.scopes().some((s) => s.leading),
    };
    return {
      ready: checks.informers && checks.eventStore,
      checks,
      details: { leadership: this.leadership.details() },
    };
  }

  /** This replica as the status API's GET /status shows it (less the API's own settings). */
  controllerStatus(): Omit<ControllerStatusBody, 'apiAuth'> {
    const details = this.leadership.details();
    const scopes = this.leadership.scopes();
    const redis = details.redis;
    return {
      version: version(),
      identity: this.leadership.identity,
      role: scopes.some((s) => s.leading) ? 'leader' : 'standby',
      election: details,
      scopes: scopes.map((s) => ({ scope: s.scope, bucket: s.bucket, leading: s.leading, leader: s.holder })),
      queue: { pipelines: this.pipelineController.depth(), plugins: this.pluginController.depth() },
      informers: {
        pipelines: this.pipelines.hasSynced(),
        plugins: this.plugins.hasSynced(),
        pods: this.pods.hasSynced(),
      },
      eventStore: this.storeHealth.available ? 'up' : 'down',
      redis: redis === 'up' || redis === 'degraded' ? redis : 'off',
    };
  }

  /** Hands back every scope first (a standby takes over at once), then drains the reconciles in flight. */
  async stop(): Promise<void> {
    await this.leadership.stop();
    await Promise.all([this.pipelineController.stop(), this.pluginController.stop()]);
    await Promise.all([this.pipelines.stop(), this.plugins.stop(), this.pods.stop()]);
    this.storeHealth.stop();
    await this.tracer?.shutdown(); // sends the traces still queued
  }
}
