/**
 * Wiring of the engine (controller-runtime's Manager, small): informers for FlexPipelines,
 * FlexPlugins and owned Pods feed two work queues; the reconcilers run on the leader; the
 * health of informers and event store decides readiness.
 */
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type pg from 'pg';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { EventRecorder } from './apply/event-recorder.js';
import { KubeClient } from './apply/kube-client.js';
import { systemClock, type Clock } from './clock.js';
import type { Failpoints } from './failpoints.js';
import { Informer } from './kube/informer.js';
import { informerMetrics } from './kube/informer-metrics.js';
import { defaultControllerRateLimiter } from './kube/rate-limiter.js';
import { queueMetrics } from './kube/queue-metrics.js';
import { WorkQueue } from './kube/work-queue.js';
import { SingleReplicaLeadership, type Leadership } from './leadership/leadership.js';
import { silentLogger, type Logger } from './log.js';
import { keyOf, type PipelineObject, type PluginObject } from './objects.js';
import { PipelineActions } from './pipeline/actions.js';
import { HistoryCache } from './pipeline/history-cache.js';
import { LABELS, MANAGED_SELECTOR } from './pipeline/labels.js';
import { pipelineStream } from './pipeline/naming.js';
import { slimPod } from './pipeline/slim-pod.js';
import { PodIndex } from './pipeline/pod-index.js';
import { PipelineReconciler } from './pipeline/reconciler.js';
import { PluginReconciler } from './plugin/reconciler.js';
import { Controller } from './reconcile/controller.js';
import { reconcileMetrics } from './reconcile/metrics.js';
import type { Reconcile } from './reconcile/errors.js';
import { EventStore } from './store/event-store.js';
import { storeMetrics } from './store/metrics.js';
import { migrate } from './store/migrate.js';
import { ReadModels } from './store/read-models.js';
import { StoreHealth } from './store-health.js';

export interface ManagerOptions {
  readonly kubeConfig: KubeConfig;
  readonly pool: pg.Pool;
  readonly clock?: Clock;
  readonly logger?: Logger;
  readonly registry?: Registry;
  /** Concurrent pipeline reconciles (controller-runtime's MaxConcurrentReconciles). */
  readonly workers?: number;
  /** Client-side limit of Kubernetes API requests per second, and its burst. */
  readonly qps?: number;
  readonly burst?: number;
  /** Watch only this namespace (all when unset). */
  readonly namespace?: string;
  readonly leadership?: Leadership;
  readonly failpoints?: Failpoints;
  /** Informer resync period (10 min). */
  readonly resyncMs?: number;
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

export class Manager {
  readonly registry: Registry;
  readonly pipelines: Informer<PipelineObject>;
  readonly plugins: Informer<PluginObject>;
  readonly pods: Informer<V1Pod>;
  readonly pipelineController: Controller;
  readonly pluginController: Controller;
  readonly storeHealth: StoreHealth;
  private readonly podIndex = new PodIndex();
  private readonly histories: HistoryCache;
  private readonly logger: Logger;

  private constructor(
    private readonly options: ManagerOptions,
    private readonly leadership: Leadership,
    readonly store: EventStore,
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
    };
    this.pipelines = new Informer<PipelineObject>({
      ...informerOpts,
      path: collection(GROUP_PATH, 'flexpipelines', options.namespace),
    });
    this.plugins = new Informer<PluginObject>({
      ...informerOpts,
      path: collection(GROUP_PATH, 'flexplugins', options.namespace),
    });
    this.pods = new Informer<V1Pod>({
      ...informerOpts,
      path: collection('/api/v1', 'pods', options.namespace),
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
    this.storeHealth = new StoreHealth(store, this.logger, clock);
    const common = { kube, leadership, clock };
    const pipelineReconciler = new PipelineReconciler({
      ...common,
      pipelines: this.pipelines,
      plugins: this.plugins,
      podsOf: (uid) => this.podIndex.podsOf(uid),
      store,
      histories: this.histories,
      actions: new PipelineActions(kube, new ReadModels(options.pool), this.logger),
      events: new EventRecorder(kube, this.logger, () => clock.now()),
      logger: this.logger.child({ controller: 'flexpipeline' }),
      failpoints: options.failpoints,
    });
    const pluginReconciler = new PluginReconciler({ ...common, plugins: this.plugins });
    const controller = (name: string, reconcile: Reconcile, workers: number): Controller =>
      new Controller({
        name,
        reconcile,
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
    this.pipelineController = controller('flexpipeline', pipelineReconciler.reconcile, options.workers ?? 8);
    this.pluginController = controller('flexplugin', pluginReconciler.reconcile, 2);
    this.wire();
  }

  /** Migrates the store, takes the fencing token, starts informers, waits for their sync, starts the reconcilers. */
  static async start(options: ManagerOptions): Promise<Manager> {
    await migrate(options.pool);
    const readModels = new ReadModels(options.pool);
    const leadership = options.leadership ?? (await SingleReplicaLeadership.acquire(readModels));
    const registry = options.registry ?? new Registry();
    collectDefaultMetrics({ register: registry });
    const m = new Manager(
      { ...options, registry },
      leadership,
      new EventStore(options.pool, storeMetrics(registry)),
    );
    m.storeHealth.start();
    await Promise.all([m.pipelines.start(), m.plugins.start(), m.pods.start()]);
    m.pluginController.start();
    m.pipelineController.start();
    m.logger.info('controller started', { fencing: leadership.fencing() });
    return m;
  }

  private wire(): void {
    const pipelines = this.pipelineController;
    const enqueue = (o: KubernetesObject): void => pipelines.enqueue(keyOf(o.metadata ?? {}));
    this.pipelines
      .onAdd(enqueue)
      .onUpdate((a, b) => {
        if (worthReconciling(a, b)) enqueue(b);
      })
      .onDelete((o) => this.histories.forget(pipelineStream(o.metadata.uid)));
    const pluginChanged = (o: PluginObject): void => {
      this.pluginController.enqueue(keyOf(o.metadata));
      for (const p of this.pipelines.list()) if (this.uses(p, o)) enqueue(p);
    };
    this.plugins
      .onAdd(pluginChanged)
      .onUpdate((a, b) => {
        if (worthReconciling(a, b)) pluginChanged(b);
      })
      .onDelete(pluginChanged);
    const podChanged = (pod: V1Pod): void => {
      const name = pod.metadata?.labels?.[LABELS.pipeline];
      if (name) pipelines.enqueue(`${pod.metadata?.namespace ?? ''}/${name}`);
    };
    this.pods
      .onAdd((p) => {
        this.podIndex.upsert(p);
        podChanged(p);
      })
      .onUpdate((_, p) => {
        this.podIndex.upsert(p);
        podChanged(p);
      })
      .onDelete((p) => {
        this.podIndex.remove(p);
        podChanged(p);
      });
  }

  private uses(p: Readonly<PipelineObject>, plugin: Readonly<PluginObject>): boolean {
    if (p.metadata.namespace !== plugin.metadata.namespace) return false;
    return p.spec.steps.some(
      (s) => s.plugin === plugin.metadata.name || s.target?.plugin === plugin.metadata.name,
    );
  }

  /** Ready: every informer synced and the event store reachable. */
  readiness(): { ready: boolean; checks: Record<string, boolean> } {
    const checks = {
      informers: this.pipelines.hasSynced() && this.plugins.hasSynced() && this.pods.hasSynced(),
      eventStore: this.storeHealth.available,
      leader: this.leadership.isLeader(),
    };
    return { ready: checks.informers && checks.eventStore, checks };
  }

  async stop(): Promise<void> {
    await Promise.all([this.pipelineController.stop(), this.pluginController.stop()]);
    await Promise.all([this.pipelines.stop(), this.plugins.stop(), this.pods.stop()]);
    this.storeHealth.stop();
  }
}
