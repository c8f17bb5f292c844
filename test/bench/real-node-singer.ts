/**
 * What the Singer phases of bench:real-node share: the shell baseline's virtualenvs, and the
 * FlexCore side (a source PostgreSQL the node reaches, an event store, the controller, the
 * catalog's plugins) with timed runs of a pipeline.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { CustomObjectsApi, PatchStrategy, Watch, setHeaderOptions } from '@kubernetes/client-node';
import pg from 'pg';
import { stringify } from 'yaml';
import { Manager } from '../../controller/manager.js';
import { migrate } from '../../controller/store/migrate.js';
import { catalogPlugin } from '../../hack/demo/catalog.js';
import { podReachablePostgres, type PodReachablePostgres } from '../../hack/demo/source-db.js';
import type { ControlPlane } from '../../hack/plane/control-plane.js';
import { REAL_NODE_PLACEMENT } from '../../hack/plane/node/node-config.js';
import { startPostgres } from '../../hack/services/postgres.js';

export const NS = 'bench-real';
/** The Secret holding the source's password, for every step and target (key `password`). */
export const PASSWORD_FROM = [{ setting: 'password', secretKeyRef: { name: 'bench-db', key: 'password' } }];

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** The plugins the phases run, with their PyPI package (the images pin the same version). */
const PYPI = {
  'tap-postgres': 'meltanolabs-tap-postgres',
  'target-jsonl': 'target-jsonl',
  'target-postgres': 'meltanolabs-target-postgres',
} as const;
export type SingerPlugin = keyof typeof PYPI;

/** The version a catalog plugin's image carries (its tag, e.g. tap-postgres:0.10.0). */
function imageVersion(plugin: SingerPlugin): string {
  const image = String(catalogPlugin(plugin).spec['image']);
  return image.slice(image.lastIndexOf(':') + 1);
}

/**
 * Virtualenvs with the same plugin versions as the images, for the shell baseline, on Debian's
 * python3 (the build the images use) when the machine has it: another build of Python (pyenv's,
 * without PGO) alone moves the figure by more than the 5 % goal. The images' dependencies
 * resolve to the same versions (compared with `pip freeze` when target-postgres was added).
 */
const BASE_PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** The program `plugin` in its virtualenv in the cache, made once per version. */
export function hostVenv(plugin: SingerPlugin): string {
  const cache = process.env['FLEXCORE_CACHE_DIR'] ?? join(homedir(), '.cache', 'flexcore');
  const base = join(cache, BASE_PYTHON === 'python3' ? 'bench-venvs' : 'bench-venvs-debian');
  const version = imageVersion(plugin);
  const dir = join(base, `${plugin}-${version}`);
  const bin = join(dir, 'bin', plugin);
  if (!existsSync(bin)) {
    const pkg = `${PYPI[plugin]}==${version}`;
    console.log(`installing ${pkg} into ${dir} (once)`);
    execFileSync(BASE_PYTHON, ['-m', 'venv', dir], { stdio: 'inherit' });
    execFileSync(join(dir, 'bin', 'pip'), ['install', '--quiet', pkg], { stdio: 'inherit' });
  }
  return bin;
}

/**
 * Runs `cmd` with bash in `cwd`, output discarded; its wall time in ms. Asynchronous, so the
 * controller (in this process) and the CPU watch keep running beside it.
 */
export function timedShell(cmd: string, cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn('bash', ['-c', cmd], { cwd, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = Date.now() - t0;
      if (code === 0) resolve(ms);
      else reject(new Error(`${cmd} failed (exit ${String(code)})`));
    });
  });
}

interface RunView {
  readonly id?: string;
  readonly phase?: string;
  /** A run is in progress. */
  readonly current: boolean;
}

function viewOf(pipeline: unknown): RunView {
  const p = pipeline as { status?: { currentRun?: unknown; lastRun?: { id?: string; phase?: string } } };
  return { ...p.status?.lastRun, current: p.status?.currentRun !== undefined };
}

/**
 * The pipeline's run once one other than `before` has ended, from a watch rather than polls
 * (polling every 250 ms cost the apiserver and this process ~7 s of CPU in a 200 s step); a
 * read every 5 s covers a watch that closes. `ready` resolves once the watch is open.
 */
function runEnd(
  kc: KubeConfig,
  name: string,
  before: string,
  read: () => Promise<RunView>,
): { ready: Promise<void>; ended: Promise<RunView> } {
  const watch = new Watch(kc);
  const path = `/apis/flexcore.io/v1alpha1/namespaces/${NS}/flexpipelines`;
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (markReady = r));
  const ended = new Promise<RunView>((resolve) => {
    let done = false;
    let abort: AbortController | undefined;
    const timer = setInterval(() => void read().then(check, () => undefined), 5000);
    function check(v: RunView): void {
      if (done || v.current || !v.id || v.id === before || !v.phase) return;
      done = true;
      clearInterval(timer);
      abort?.abort();
      resolve(v);
    }
    const open = (): void => {
      if (done) return;
      watch
        .watch(
          path,
          { fieldSelector: `metadata.name=${name}` },
          (_type, obj) => check(viewOf(obj)),
          () => setTimeout(open, 100),
        )
        .then(
          (c) => {
            abort = c;
            if (done) c.abort();
            markReady();
          },
          () => setTimeout(open, 500),
        );
    };
    open();
  });
  return { ready, ended };
}

/**
 * A pipeline of one tap-postgres step on the real node reading `database` (schema public) of
 * the bench source, with the password from the bench Secret; `extra` adds catalog and target.
 */
export function tapPipeline(
  bench: Pick<SingerBench, 'source'>,
  name: string,
  database: string,
  extra: Record<string, unknown>,
): object {
  return {
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPipeline',
    metadata: { name },
    spec: {
      steps: [
        {
          name: 'el',
          plugin: 'tap-postgres',
          ...REAL_NODE_PLACEMENT,
          config: {
            host: bench.source.podHost,
            port: bench.source.port,
            user: 'postgres',
            database,
            filter_schemas: ['public'],
          },
          configFrom: PASSWORD_FROM,
          ...extra,
        },
      ],
    },
  };
}

/** The FlexCore side of the Singer phases. */
export interface SingerBench {
  readonly plane: ControlPlane;
  readonly source: PodReachablePostgres;
  /** The event store's pool (flexcore.events). */
  readonly events: pg.Pool;
  /** Applies objects into the bench namespace. */
  apply(objects: readonly object[]): Promise<void>;
  /** Waits until `pipeline` has finished a run and runs nothing; the last run's id. */
  settle(pipeline: string): Promise<string>;
  /**
   * Requests a run of `pipeline` (value `value`, with `annotations` set in the same patch) and
   * waits for it to end; trigger → run finished in ms. A run that does not succeed throws.
   */
  timedRun(
    pipeline: string,
    value: string,
    annotations?: Record<string, string>,
  ): Promise<{ id: string; ms: number }>;
  stop(): Promise<void>;
}

/**
 * Starts the source database, the event store and the controller (in this process, 4 workers,
 * as the rows figures have always been taken) and applies the Secret and the plugins, each
 * with room for both sides of a pair on this 2-core machine.
 */
export async function startSingerBench(plane: ControlPlane): Promise<SingerBench> {
  const source = await podReachablePostgres();
  const store = await startPostgres();
  const events = new pg.Pool({ connectionString: await store.createDatabase(), max: 10 });
  // An idle client's server going away at the end is not a failure of the bench.
  events.on('error', () => undefined);
  await migrate(events);
  const manager = await Manager.start({
    kubeConfig: plane.kubeConfig(),
    pool: events,
    namespaces: [NS],
    workers: 4,
  });
  // Read and patched through the API client: a kubectl process per read would take CPU from
  // the step, and one per trigger would start the clock ~0.1 s early.
  const api = plane.kubeConfig().makeApiClient(CustomObjectsApi);
  const ref = { group: 'flexcore.io', version: 'v1alpha1', namespace: NS, plural: 'flexpipelines' };
  const status = async (name: string): Promise<RunView> =>
    viewOf(await api.getNamespacedCustomObject({ ...ref, name }));
  const apply = async (objects: readonly object[]): Promise<void> => {
    await plane.kubectl(['apply', '-n', NS, '-f', '-'], objects.map((o) => stringify(o)).join('---\n'));
  };
  const settle = async (name: string): Promise<string> => {
    for (;;) {
      const s = await status(name);
      if (!s.current && s.phase && s.id) return s.id;
      await sleep(200);
    }
  };
  await apply([
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'bench-db' },
      stringData: { password: source.password },
    },
    ...Object.keys(PYPI).map((p) => catalogPlugin(p, { resources: { limits: { cpu: '2', memory: '1Gi' } } })),
  ]);
  return {
    plane,
    source,
    events,
    apply,
    settle,
    async timedRun(name, value, annotations = {}) {
      const before = await settle(name);
      const end = runEnd(plane.kubeConfig(), name, before, () => status(name));
      await end.ready;
      const t0 = Date.now();
      await api.patchNamespacedCustomObject(
        {
          ...ref,
          name,
          body: { metadata: { annotations: { ...annotations, 'flexcore.io/run-requested': value } } },
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      const run = await end.ended;
      const ms = Date.now() - t0;
      if (run.phase !== 'Succeeded') {
        const st = await plane.kubectl([
          '-n',
          NS,
          'get',
          'flexpipeline',
          name,
          '-o',
          'jsonpath={.status.lastRun}',
        ]);
        throw new Error(`the FlexCore run of ${name} ended ${run.phase}: ${st}`);
      }
      return { id: run.id!, ms };
    },
    async stop() {
      await manager.stop();
      await events.end();
      await store.stop();
      await source.server.stop();
    },
  };
}
