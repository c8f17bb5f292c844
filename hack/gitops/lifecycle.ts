/**
 * FlexPlugins and FlexPipelines driven through the states a GitOps tool has to judge, on a
 * local control plane (kwok, no real node) with a real in-process controller: the source of
 * the Argo CD health testdata (capture-health-testdata.ts) and of test/integration/gitops-health.
 */
import { finishedPodStatus, type PodForStatus } from '../plane/finished-pod-status.js';
import pg from 'pg';
import { stringify } from 'yaml';
import { Manager } from '../../controller/manager.js';
import { ControlPlane, KWOK_ANNOTATIONS } from '../plane/control-plane.js';
import { createRestrictedNamespace, installCrds } from '../plane/setup.js';
import { startPostgres, type PostgresServer } from '../services/postgres.js';

export type GitopsKind = 'FlexPipeline' | 'FlexPlugin';

/** A live object as the apiserver returns it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation?: number;
    finalizers?: string[];
    deletionTimestamp?: string;
    [key: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: {
    observedGeneration?: number;
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; observedGeneration?: number }[];
    currentRun?: { id: string; phase: string; steps?: { name: string; phase: string; pod?: string }[] };
    lastRun?: { id: string; phase: string };
    [key: string]: unknown;
  };
}

/** One state reached: the kind, the state's name (its testdata file name) and the live object. */
export interface Reached {
  readonly kind: GitopsKind;
  readonly state: string;
  readonly object: KubeObject;
}

/** A finalizer of our own that keeps a deleted object visible after the controller let it go. */
export const HOLD_FINALIZER = 'example.com/hold';

const STEP_POD_RUN = '1h';

export class GitopsWorld {
  private constructor(
    readonly plane: ControlPlane,
    /** Watched by the controller. */
    readonly namespace: string,
    /** Not watched: objects there stay as the apiserver made them. */
    readonly unwatched: string,
    private readonly postgres: PostgresServer,
    private readonly pool: pg.Pool,
    private manager: Manager | undefined,
  ) {}

  /** A plane without the real node, the CRDs, two namespaces, PostgreSQL and a controller. */
  static async start(log: (line: string) => void = () => undefined): Promise<GitopsWorld> {
    const plane = await ControlPlane.start({ log });
    try {
      await installCrds(plane);
      const [namespace, unwatched] = ['gitops', 'gitops-unwatched'];
      await createRestrictedNamespace(plane, namespace);
      await createRestrictedNamespace(plane, unwatched);
      const postgres = await startPostgres();
      const pool = new pg.Pool({ connectionString: await postgres.createDatabase(), max: 10 });
      pool.on('error', () => undefined);
      const world = new GitopsWorld(plane, namespace, unwatched, postgres, pool, undefined);
      await world.startController();
      return world;
    } catch (err) {
      await plane.stop();
      throw err;
    }
  }

  async startController(): Promise<void> {
    this.manager ??= await Manager.start({
      kubeConfig: this.plane.kubeConfig(),
      pool: this.pool,
      namespaces: [this.namespace],
      workers: 4,
    });
  }

  async stopController(): Promise<void> {
    await this.manager?.stop();
    this.manager = undefined;
  }

  async stop(): Promise<void> {
    await this.stopController();
    await this.pool.end().catch(() => undefined);
    await Promise.all([this.postgres.stop(), this.plane.stop()]);
  }

  kubectl(args: string[], input?: string, ns = this.namespace): Promise<string> {
    return this.plane.kubectl(['-n', ns, ...args], input);
  }

  /** Server-side apply (no last-applied annotation in the captured objects). */
  async apply(objects: unknown[], ns = this.namespace): Promise<void> {
    const text = objects.map((o) => stringify(o)).join('---\n');
    await this.kubectl(['apply', '--server-side', '--field-manager=gitops-test', '-f', '-'], text, ns);
  }

  async get(kind: GitopsKind | 'pod', name: string, ns = this.namespace): Promise<KubeObject> {
    return JSON.parse(
      await this.kubectl(['get', kind.toLowerCase(), name, '-o', 'json'], undefined, ns),
    ) as KubeObject;
  }

  async patch(kind: GitopsKind, name: string, patch: unknown): Promise<void> {
    await this.kubectl(['patch', kind.toLowerCase(), name, '--type=merge', '-p', JSON.stringify(patch)]);
  }
}

/** Polls `check` until it returns an object, or fails after `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: Error | undefined;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err as Error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 250));
  }
}

const condition = (o: KubeObject, type: string): { status: string; reason?: string } | undefined =>
  o.status?.conditions?.find((c) => c.type === type);

/** True once the controller wrote status for the object's current generation. */
const observed = (o: KubeObject): boolean =>
  o.status?.observedGeneration === o.metadata.generation && condition(o, 'Ready') !== undefined;

function plugin(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPlugin',
    metadata: { name },
    spec: { type: 'utility', image: `example.com/${name}:1`, command: [name], ...spec },
  };
}

function pipeline(name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'flexcore.io/v1alpha1', kind: 'FlexPipeline', metadata: { name }, spec };
}

/** A step whose fake kwok container runs `duration`, then exits with `exitCode`. */
function step(name: string, exitCode: number, duration: string): Record<string, unknown> {
  const annotations = {
    [KWOK_ANNOTATIONS.exitCode]: String(exitCode),
    [KWOK_ANNOTATIONS.duration]: duration,
  };
  return { name, plugin: 'work', podMetadata: { annotations } };
}

type Visit = (reached: Reached) => Promise<void>;

/** The object once `accept` says it reached the state; then `visit` sees it. */
async function reach(
  world: GitopsWorld,
  visit: Visit,
  kind: GitopsKind,
  name: string,
  state: string,
  accept: (o: KubeObject) => boolean,
  opts: { ns?: string; timeoutMs?: number } = {},
): Promise<KubeObject> {
  const object = await until(
    `${kind} ${name} to be ${state}`,
    async () => {
      const o = await world.get(kind, name, opts.ns);
      return accept(o) ? o : undefined;
    },
    opts.timeoutMs,
  );
  await visit({ kind, state, object });
  return object;
}

/** Deletes the object while HOLD_FINALIZER keeps it, waits until only that finalizer is left. */
async function deleteHeld(world: GitopsWorld, visit: Visit, kind: GitopsKind, name: string): Promise<void> {
  const o = await world.get(kind, name);
  await world.patch(kind, name, {
    metadata: { finalizers: [...(o.metadata.finalizers ?? []), HOLD_FINALIZER] },
  });
  await world.kubectl(['delete', kind.toLowerCase(), name, '--wait=false']);
  await reach(world, visit, kind, name, 'deleting', (x) => {
    const f = x.metadata.finalizers ?? [];
    return !!x.metadata.deletionTimestamp && f.length === 1 && f[0] === HOLD_FINALIZER;
  });
  await world.patch(kind, name, { metadata: { finalizers: null } });
}

async function pluginStates(world: GitopsWorld, visit: Visit): Promise<void> {
  await reach(world, visit, 'FlexPlugin', 'work', 'valid', observed);
  // What admission cannot judge: a default that is not of the setting's kind.
  await world.apply([plugin('bad-default', { settings: [{ name: 'port', kind: 'integer', default: 'x' }] })]);
  await reach(world, visit, 'FlexPlugin', 'bad-default', 'invalid', observed);
  await world.apply([plugin('unseen')], world.unwatched);
  await reach(world, visit, 'FlexPlugin', 'unseen', 'not-observed', (o) => o.status !== undefined, {
    ns: world.unwatched,
  });
  await world.apply([plugin('doomed')]);
  await until('doomed to be observed', async () =>
    observed(await world.get('FlexPlugin', 'doomed')) ? true : undefined,
  );
  await deleteHeld(world, visit, 'FlexPlugin', 'doomed');
}

const isRunning = (o: KubeObject): boolean =>
  observed(o) && (o.status?.currentRun?.steps ?? []).some((s) => s.phase === 'Running');

/** Plays the kubelet: ends the Pod's containers with `exitCode` (the kwok stage leaves it alone). */
async function finishPod(world: GitopsWorld, pod: string, exitCode: number): Promise<void> {
  const p = (await world.get('pod', pod)) as unknown as PodForStatus;
  const status = finishedPodStatus(p, exitCode);
  const patch = JSON.stringify({ status });
  await world.kubectl(['patch', 'pod', pod, '--subresource=status', '--type=merge', '-p', patch]);
}

/** One pipeline without schedule: running, succeeded, a generation not observed yet, failed, suspended, deleting. */
async function onDemandStates(world: GitopsWorld, visit: Visit): Promise<void> {
  await world.apply([pipeline('load', { steps: [step('copy', 0, STEP_POD_RUN)] })]);
  const running = await reach(world, visit, 'FlexPipeline', 'load', 'running', isRunning);
  await finishPod(world, running.status!.currentRun!.steps![0]!.pod!, 0);
  await reach(
    world,
    visit,
    'FlexPipeline',
    'load',
    'succeeded',
    (o) => observed(o) && o.status?.lastRun?.phase === 'Succeeded' && !o.status.currentRun,
  );
  // A new generation while the controller is down: the apiserver has it, the controller not yet.
  await world.stopController();
  await world.apply([pipeline('load', { steps: [step('copy', 1, '0s')] })]);
  await reach(
    world,
    visit,
    'FlexPipeline',
    'load',
    'generation-not-observed',
    (o) => o.metadata.generation === 2,
  );
  await world.startController();
  await reach(
    world,
    visit,
    'FlexPipeline',
    'load',
    'failed',
    (o) => observed(o) && o.status?.lastRun?.phase === 'Failed' && !o.status.currentRun,
  );
  await world.patch('FlexPipeline', 'load', { spec: { suspend: true } });
  await reach(
    world,
    visit,
    'FlexPipeline',
    'load',
    'suspended',
    (o) => observed(o) && o.metadata.generation === 3,
  );
  await deleteHeld(world, visit, 'FlexPipeline', 'load');
}

/** The plugin the pipelines use, and scheduled pipelines: every minute (one failing, one busy) and yearly. */
async function applyScheduled(world: GitopsWorld): Promise<void> {
  await world.apply([
    plugin('work'),
    pipeline('nightly-bad', { schedule: '* * * * *', steps: [step('copy', 1, '0s')] }),
    pipeline('nightly-busy', { schedule: '* * * * *', steps: [step('copy', 0, STEP_POD_RUN)] }),
    pipeline('yearly', { schedule: '0 0 1 1 *', steps: [step('copy', 0, STEP_POD_RUN)] }),
  ]);
}

async function scheduledStates(world: GitopsWorld, visit: Visit): Promise<void> {
  const tick = { timeoutMs: 90_000 };
  await reach(
    world,
    visit,
    'FlexPipeline',
    'yearly',
    'idle',
    (o) => observed(o) && o.status?.phase === 'Idle',
  );
  await reach(world, visit, 'FlexPipeline', 'nightly-busy', 'scheduled-running', isRunning, tick);
  await reach(
    world,
    visit,
    'FlexPipeline',
    'nightly-bad',
    'scheduled-failed',
    (o) => observed(o) && o.status?.lastRun?.phase === 'Failed' && !o.status.currentRun,
    tick,
  );
  await world.kubectl(['annotate', 'flexpipeline', 'yearly', 'flexcore.io/run-requested=backfill-1']);
  await reach(world, visit, 'FlexPipeline', 'yearly', 'manual-running', isRunning);
}

async function invalidStates(world: GitopsWorld, visit: Visit): Promise<void> {
  await world.apply([
    pipeline('cyclic', {
      steps: [
        { ...step('a', 0, '0s'), dependsOn: ['b'] },
        { ...step('b', 0, '0s'), dependsOn: ['a'] },
      ],
    }),
  ]);
  await reach(
    world,
    visit,
    'FlexPipeline',
    'cyclic',
    'invalid',
    (o) => observed(o) && o.status?.phase === 'Invalid',
  );
  await world.apply([pipeline('unseen', { steps: [step('copy', 0, '0s')] })], world.unwatched);
  await reach(world, visit, 'FlexPipeline', 'unseen', 'not-observed', (o) => o.status !== undefined, {
    ns: world.unwatched,
  });
}

/**
 * Drives every state, calling `visit` with the live object at each: plugins valid, invalid,
 * not observed, deleting; pipelines idle, running, succeeded, generation not observed, failed,
 * suspended, deleting, invalid, not observed, a scheduled run running or failed, a requested
 * run running.
 */
export async function driveLifecycle(world: GitopsWorld, visit: Visit): Promise<void> {
  await applyScheduled(world); // first: their first tick comes within a minute
  await pluginStates(world, visit);
  await invalidStates(world, visit);
  await onDemandStates(world, visit);
  await scheduledStates(world, visit);
}
