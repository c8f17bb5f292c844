/**
 * The FlexPipeline phases of one run, against the controller processes: first runs of N new
 * one-step pipelines, then the same N re-triggered through `flexcore.io/run-requested` all at
 * once (twice), then re-triggered in an open loop at half the measured rate. Each phase counts
 * the controllers' Kubernetes API requests by verb and resource and their CPU, per run.
 */
import { KubeClient } from '../../../controller/apply/kube-client.js';
import { ANNOTATIONS } from '../../../controller/pipeline/labels.js';
import type { ControlPlane } from '../../../hack/plane/control-plane.js';
import { createRestrictedNamespace } from '../../../hack/plane/setup.js';
import type { Groups } from '../proc.js';
import { latency, type Latency } from '../stats.js';
import { countsPer, totalOf, type RequestCounts } from './api-requests.js';
import { Controllers, type ControllerSettings } from './controllers.js';
import { openLoop, pool, until } from './load.js';
import { createPipeline, createPlugin, pipelinesPath } from './manifests.js';
import { planeGroups, startPhase, type Phase } from './phase.js';
import { RunWatch, type WatchedPipeline } from './run-watch.js';

export interface RunPhaseFigures {
  /** N / (last run done − first create or trigger sent). */
  readonly runsPerSecond: number;
  /** Create (first runs) or trigger (later runs) sent → the run's first Pod seen. */
  readonly toPod: Latency;
  /** Create or trigger sent → the run seen Succeeded in the pipeline's status. */
  readonly toSucceeded: Latency;
  readonly requestsPerRun: number;
  /** Requests per run by `verb resource` (and code when not 2xx). */
  readonly requestsByKind: RequestCounts;
  /** The controllers' CPU (utime + stime) per run, ms. */
  readonly controllerCpuMsPerRun: number;
  /** First send → the controllers quiet after the last run: what requests and CPU are counted over. */
  readonly phase: Phase;
}

export interface OpenLoopFigures extends RunPhaseFigures {
  /** Half the runs/s of the second all-at-once phase. */
  readonly targetPerSecond: number;
  /** (N − 1) / (last trigger sent − first trigger sent). */
  readonly sentPerSecond: number;
}

export interface PipelineFigures {
  readonly first: RunPhaseFigures;
  readonly steady1: RunPhaseFigures;
  readonly steady2: RunPhaseFigures;
  readonly open: OpenLoopFigures;
  /** The largest VmHWM of the controller processes at the end of the run, MiB. */
  readonly peakRssMiB: number;
}

const PHASE_TIMEOUT_MS = 15 * 60_000;

interface Bench {
  readonly kube: KubeClient;
  readonly namespace: string;
  readonly names: readonly string[];
  readonly watch: RunWatch;
  readonly controllers: Controllers;
  readonly groups: Groups;
  readonly concurrency: number;
}

/** A pipeline is done with a run-requested value once its last run is that request's, Succeeded and nothing runs. */
function requestSucceeded(value: string): (p: Readonly<WatchedPipeline>) => boolean {
  return (p) =>
    p.status?.lastRunRequest === value && p.status.lastRun?.phase === 'Succeeded' && !p.status.currentRun;
}

function requestRun(b: Bench, name: string, value: string): Promise<unknown> {
  return b.kube.patch(`${pipelinesPath(b.namespace)}/${name}`, {
    metadata: { annotations: { [ANNOTATIONS.runRequested]: value } },
  });
}

/**
 * Runs `send` (which notes in `sent` when it sent each pipeline's create or trigger), waits
 * until every pipeline is done as `watch.expect` said, then until the controllers are quiet,
 * and sums up.
 */
async function measure(
  b: Bench,
  sent: Map<string, number>,
  send: () => Promise<void>,
  podAt: (name: string) => number | undefined,
): Promise<RunPhaseFigures> {
  const n = b.names.length;
  const before = await b.controllers.requests();
  const clock = startPhase(b.groups);
  await send();
  await until(
    () => b.watch.doneCount === n,
    PHASE_TIMEOUT_MS,
    () => `only ${b.watch.doneCount}/${n} runs done (pipelines: ${b.watch.phases()})`,
  );
  await b.controllers.quiet();
  const phase = clock.end();
  const requestsByKind = countsPer(await b.controllers.requests(), before, n);
  const since = (at: number | undefined, name: string): number => (at ?? NaN) - sent.get(name)!;
  const t0 = Math.min(...sent.values());
  const last = Math.max(...b.names.map((x) => b.watch.doneAt(x)!));
  const controllerCpu = Object.entries(phase.cpu)
    .filter(([k]) => k.startsWith('controller'))
    .reduce((s, [, v]) => s + v, 0);
  return {
    runsPerSecond: n / ((last - t0) / 1000),
    toPod: latency(b.names.map((x) => since(podAt(x), x))),
    toSucceeded: latency(b.names.map((x) => since(b.watch.doneAt(x), x))),
    requestsPerRun: totalOf(requestsByKind),
    requestsByKind,
    controllerCpuMsPerRun: (1000 * controllerCpu) / n,
    phase,
  };
}

/** N new pipelines at `concurrency` in flight; each first run ends when the pipeline shows Succeeded. */
async function firstRuns(b: Bench): Promise<RunPhaseFigures> {
  b.watch.expect((p) => p.status?.phase === 'Succeeded');
  const known = b.watch.knownRuns();
  const sent = new Map<string, number>();
  return measure(
    b,
    sent,
    () =>
      pool(b.names, b.concurrency, async (name) => {
        sent.set(name, performance.now());
        await createPipeline(b.kube, b.namespace, name);
      }),
    (name) => b.watch.firstNewPod(name, known),
  );
}

/** Every pipeline's run requested with `value`, sent by `send`; the run's Pod is its first new manual-run (`m-`) Pod. */
async function triggeredRuns(
  b: Bench,
  value: string,
  send: (trigger: (name: string) => Promise<void>) => Promise<void>,
  /** Filled with when each trigger was sent (performance.now() ms). */
  sent = new Map<string, number>(),
): Promise<RunPhaseFigures> {
  b.watch.expect(requestSucceeded(value));
  const known = b.watch.knownRuns();
  return measure(
    b,
    sent,
    () =>
      send(async (name) => {
        sent.set(name, performance.now());
        await requestRun(b, name, value);
      }),
    (name) => b.watch.firstNewPod(name, known, (run) => run.startsWith('m-')),
  );
}

/** All N triggers at `concurrency` in flight (closed loop). */
function atOnce(b: Bench, value: string): Promise<RunPhaseFigures> {
  return triggeredRuns(b, value, (trigger) => pool(b.names, b.concurrency, trigger));
}

/** One trigger every 1 / perSecond s on a schedule from the start, not waiting for any run. */
async function openLoopRuns(b: Bench, value: string, perSecond: number): Promise<OpenLoopFigures> {
  const sent = new Map<string, number>();
  const figures = await triggeredRuns(b, value, (trigger) => openLoop(b.names, perSecond, trigger), sent);
  const span = (Math.max(...sent.values()) - Math.min(...sent.values())) / 1000;
  return { ...figures, targetPerSecond: perSecond, sentPerSecond: (sent.size - 1) / span };
}

async function phases(b: Bench): Promise<PipelineFigures> {
  const first = await firstRuns(b);
  const steady1 = await atOnce(b, 'bench-1');
  const steady2 = await atOnce(b, 'bench-2');
  const open = await openLoopRuns(b, 'bench-open', 0.5 * steady2.runsPerSecond);
  return { first, steady1, steady2, open, peakRssMiB: b.controllers.memoryMiB('VmHWM') };
}

/** In a fresh namespace `flex-<n>`: the plugin, the controllers, the watch, then every phase in turn. */
export async function pipelinePhases(
  plane: ControlPlane,
  databaseUrl: string,
  n: number,
  settings: ControllerSettings,
  concurrency: number,
): Promise<PipelineFigures> {
  const namespace = `flex-${n}`;
  await createRestrictedNamespace(plane, namespace);
  const kc = plane.kubeConfig();
  const kube = new KubeClient(kc, { qps: 0 });
  await createPlugin(kube, namespace);
  const controllers = await Controllers.start(plane, databaseUrl, namespace, settings);
  const watch = new RunWatch(kc, namespace);
  try {
    await watch.start();
    const names = Array.from({ length: n }, (_, i) => `p-${i}`);
    const groups = planeGroups(plane, controllers.cpuGroups());
    return await phases({ kube, namespace, names, watch, controllers, groups, concurrency });
  } finally {
    await watch.stop();
    await controllers.stop();
  }
}
