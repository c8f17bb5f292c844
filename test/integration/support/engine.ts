/**
 * The engine in-process against the shared control plane and a fresh database, watching one
 * namespace (enforcing Pod Security "restricted") so suites do not see each other's objects.
 */
import { finishedPodStatus, type PodForStatus } from '../../../hack/plane/finished-pod-status.js';
import { stringify } from 'yaml';
import { Manager, type ManagerOptions } from '../../../controller/manager.js';
import { systemClock, type Clock } from '../../../controller/clock.js';
import type { ControlPlane } from '../../../hack/plane/control-plane.js';
import { createRestrictedNamespace } from '../../../hack/plane/setup.js';
import { sharedPlane, uniqueName } from './plane.js';
import { freshStore, type TestStore } from './store.js';

/** A clock that runs in real time but can be moved forward: timers stay real, "now" jumps. */
export class JumpClock implements Clock {
  private offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  setTimer(callback: () => void, delayMs: number): () => void {
    return systemClock.setTimer(callback, delayMs);
  }
  /** Moves "now" forward by `ms`. */
  jump(ms: number): void {
    this.offset += ms;
  }
  /** Moves "now" to `ms` since the epoch (only forward). */
  jumpTo(ms: number): void {
    this.offset = Math.max(this.offset, ms - Date.now());
  }
}

export interface Engine {
  readonly plane: ControlPlane;
  readonly namespace: string;
  readonly db: TestStore;
  manager: Manager;
  /** kubectl apply of objects (YAML documents) into the namespace. */
  apply(...objects: unknown[]): Promise<void>;
  /** kubectl in the namespace. */
  kubectl(args: string[], input?: string): Promise<string>;
  /** JSON of `kubectl get` in the namespace. */
  get<T = Record<string, unknown>>(kind: string, name: string): Promise<T>;
  restart(options?: Partial<ManagerOptions>): Promise<void>;
  stop(): Promise<void>;
}

export async function startEngine(
  options: Partial<ManagerOptions> & { prefix?: string } = {},
): Promise<Engine> {
  const plane = await sharedPlane();
  const namespace = uniqueName(options.prefix ?? 'engine');
  await createRestrictedNamespace(plane, namespace);
  const db = await freshStore(10);
  const start = (extra: Partial<ManagerOptions> = {}): Promise<Manager> =>
    Manager.start({
      kubeConfig: plane.kubeConfig(),
      pool: db.pool,
      namespaces: [namespace],
      workers: 4,
      ...options,
      ...extra,
    });
  const kubectl = (args: string[], input?: string): Promise<string> =>
    plane.kubectl(['-n', namespace, ...args], input);
  const engine: Engine = {
    plane,
    namespace,
    db,
    manager: await start(),
    kubectl,
    async apply(...objects) {
      await kubectl(['apply', '-f', '-'], objects.map((o) => stringify(o)).join('---\n'));
    },
    async get<T>(kind: string, name: string): Promise<T> {
      return JSON.parse(await kubectl(['get', kind, name, '-o', 'json'])) as T;
    },
    async restart(extra) {
      await engine.manager.stop();
      engine.manager = await start(extra);
    },
    async stop() {
      await engine.manager.stop();
      await db.close();
    },
  };
  return engine;
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Plays the kubelet for one Pod: ends its containers with `exitCode` (the kwok stage then leaves it alone). */
export async function finishPod(engine: Engine, pod: string, exitCode: number): Promise<void> {
  const p = await engine.get<PodForStatus>('pod', pod);
  const status = finishedPodStatus(p, exitCode);
  await engine.kubectl([
    'patch',
    'pod',
    pod,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status }),
  ]);
}

/** Waits until the Pod exists and runs. */
export async function runningPod(engine: Engine, pod: string, timeoutMs = 30_000): Promise<void> {
  await eventually(
    async () => (await engine.get<{ status?: { phase?: string } }>('pod', pod)).status?.phase === 'Running',
    timeoutMs,
    `pod ${pod} to run`,
  );
}
