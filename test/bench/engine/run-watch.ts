/**
 * What the benchmark sees of the runs, through two informers (the controller's own Informer
 * class) in this process: when each run's first Pod appeared, and when each pipeline first
 * met the condition that ends the runs being timed.
 */
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { LABELS } from '../../../controller/pipeline/labels.js';
import { Informer } from '../../../controller/kube/informer.js';
import { silentLogger } from '../../../controller/log.js';
import { pipelinesPath } from './manifests.js';

/** The parts of a FlexPipeline the benchmark reads. */
export interface WatchedPipeline {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  status?: {
    phase?: string;
    observedGeneration?: number;
    lastRunRequest?: string;
    currentRun?: unknown;
    lastRun?: { phase?: string };
  };
}

export class RunWatch {
  /** Pipeline → run key → when its first Pod was seen (performance.now() ms). */
  private readonly podSeen = new Map<string, Map<string, number>>();
  private readonly done = new Map<string, number>();
  private isDone: (p: Readonly<WatchedPipeline>) => boolean = () => false;
  private readonly pods: Informer<V1Pod>;
  private readonly pipelines: Informer<WatchedPipeline>;

  constructor(kc: KubeConfig, namespace: string) {
    this.pods = new Informer<V1Pod>({
      kubeConfig: kc,
      path: `/api/v1/namespaces/${namespace}/pods`,
      labelSelector: LABELS.pipeline,
      logger: silentLogger,
      resyncMs: 0,
    });
    this.pipelines = new Informer<WatchedPipeline>({
      kubeConfig: kc,
      path: pipelinesPath(namespace),
      logger: silentLogger,
      resyncMs: 0,
    });
    this.pods.onAdd((p) => this.onPod(p)).onUpdate((_, p) => this.onPod(p));
    this.pipelines.onAdd((p) => this.onPipeline(p)).onUpdate((_, p) => this.onPipeline(p));
  }

  async start(): Promise<void> {
    await Promise.all([this.pods.start(), this.pipelines.start()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.pods.stop(), this.pipelines.stop()]);
  }

  private onPod(pod: Readonly<V1Pod>): void {
    const pipeline = pod.metadata?.labels?.[LABELS.pipeline];
    const run = pod.metadata?.labels?.[LABELS.run];
    if (!pipeline || !run) return;
    const runs = this.podSeen.get(pipeline) ?? new Map<string, number>();
    this.podSeen.set(pipeline, runs);
    if (!runs.has(run)) runs.set(run, performance.now());
  }

  private onPipeline(p: Readonly<WatchedPipeline>): void {
    if (!this.done.has(p.metadata.name) && this.isDone(p)) this.done.set(p.metadata.name, performance.now());
  }

  /** Starts timing a new set of runs: a pipeline's is done the first time `isDone` holds for it. */
  expect(isDone: (p: Readonly<WatchedPipeline>) => boolean): void {
    this.done.clear();
    this.isDone = isDone;
    for (const p of this.pipelines.list()) this.onPipeline(p);
  }

  get doneCount(): number {
    return this.done.size;
  }

  /** When the pipeline's run was seen done, since the last `expect`. */
  doneAt(name: string): number | undefined {
    return this.done.get(name);
  }

  /** Run keys of every Pod seen so far, per pipeline: a snapshot taken before runs are triggered. */
  knownRuns(): ReadonlyMap<string, ReadonlySet<string>> {
    return new Map([...this.podSeen].map(([name, runs]) => [name, new Set(runs.keys())]));
  }

  /** When the first Pod of a run of `name` not in `known` whose key passes `match` was seen. */
  firstNewPod(
    name: string,
    known: ReadonlyMap<string, ReadonlySet<string>>,
    match: (runKey: string) => boolean = () => true,
  ): number | undefined {
    const seen = [...(this.podSeen.get(name) ?? [])]
      .filter(([run]) => match(run) && !known.get(name)?.has(run))
      .map(([, at]) => at);
    return seen.length ? Math.min(...seen) : undefined;
  }

  /** `Succeeded 480, Running 20`: pipelines by status.phase, for a timeout's message. */
  phases(): string {
    const count = new Map<string, number>();
    for (const p of this.pipelines.list()) {
      const phase = p.status?.phase ?? 'none';
      count.set(phase, (count.get(phase) ?? 0) + 1);
    }
    return [...count].map(([k, v]) => `${k} ${v}`).join(', ');
  }
}
