/**
 * Benchmark: the real node.
 *
 *   pods  Pod create → Running and create → Succeeded of bare restricted Pods, one at a time,
 *         on the real node (containerd + runc) and on the kwok node, BENCH_PODS each (10).
 *   rows  Rows per second of tap-postgres | target-jsonl moving BENCH_ROWS rows (1,000,000)
 *         as a FlexCore step on the real node (trigger → run Succeeded, so Pod start-up and
 *         the controller count against it) and as the same two programs piped in a shell on
 *         this machine (virtualenvs in the cache, same versions, same Python build: Debian's),
 *         alternated, BENCH_RUNS each (3). The limit is the shell pipe measured in the same run;
 *         the goal is an overhead under 5 %.
 *
 *   node --import tsx test/bench/real-node.ts     (BENCH_PHASES=pods,rows to pick; needs root)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type V1Pod } from '@kubernetes/client-node';
import pg from 'pg';
import { stringify } from 'yaml';
import { Manager } from '../../controller/manager.js';
import { migrate } from '../../controller/store/migrate.js';
import { catalogPlugin } from '../../hack/demo/catalog.js';
import { hostPathClaim } from '../../hack/demo/host-path-claim.js';
import { podReachablePostgres, seedOrders, type PodReachablePostgres } from '../../hack/demo/source-db.js';
import { ControlPlane, FAKE_NODE, KWOK_ANNOTATIONS } from '../../hack/plane/control-plane.js';
import { REAL_NODE, REAL_NODE_PLACEMENT } from '../../hack/plane/node/node-config.js';
import { createRestrictedNamespace, installCrds } from '../../hack/plane/setup.js';
import { startPostgres } from '../../hack/services/postgres.js';
import { median, percentile } from './stats.js';

const PHASES = (process.env.BENCH_PHASES ?? 'pods,rows').split(',');
const PODS = Number(process.env.BENCH_PODS ?? 10);
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const NS = 'bench-real';
const PYTHON = 'localhost/python:3.11-slim-bookworm';
const CATALOG = join(import.meta.dirname, '../../hack/demo/orders-catalog.json');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** Creates a bare restricted Pod and times it to `until`; deletes it after. */
async function timePod(
  plane: ControlPlane,
  name: string,
  real: boolean,
  until: 'Running' | 'Succeeded',
): Promise<number> {
  const sleeping = until === 'Running';
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: NS,
      ...(!real && {
        annotations: {
          [KWOK_ANNOTATIONS.exitCode]: '0',
          [KWOK_ANNOTATIONS.duration]: sleeping ? '300s' : '0s',
        },
      }),
    },
    spec: {
      restartPolicy: 'Never',
      ...(real ? REAL_NODE_PLACEMENT : { nodeSelector: { 'kubernetes.io/hostname': FAKE_NODE } }),
      securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'c',
          image: PYTHON,
          imagePullPolicy: 'Never',
          command: sleeping ? ['sleep', '300'] : ['true'],
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
        },
      ],
    },
  };
  // Through the API client, polled every 20 ms: a kubectl process per poll would add ~60 ms.
  const core = plane.kubeConfig().makeApiClient(CoreV1Api);
  const t0 = Date.now();
  await core.createNamespacedPod({ namespace: NS, body: pod as V1Pod });
  for (;;) {
    const phase = (await core.readNamespacedPod({ name, namespace: NS })).status?.phase;
    if (phase === until) break;
    if (phase === 'Failed') throw new Error(`pod ${name} failed`);
    if (Date.now() - t0 > 120_000) throw new Error(`pod ${name} not ${until} after 120 s`);
    await sleep(20);
  }
  const took = Date.now() - t0;
  await plane
    .kubectl(['-n', NS, 'delete', 'pod', name, '--grace-period=0', '--force', '--wait=false'])
    .catch(() => '');
  return took;
}

async function podsPhase(plane: ControlPlane): Promise<void> {
  await plane.realNode!.ensureImages(['python']);
  for (const real of [true, false]) {
    const where = real ? `real node (${REAL_NODE.name})` : `kwok node (${FAKE_NODE})`;
    const running: number[] = [];
    const done: number[] = [];
    for (let i = 0; i < PODS; i++) {
      running.push(await timePod(plane, `run-${real ? 'r' : 'k'}-${i}`, real, 'Running'));
      done.push(await timePod(plane, `done-${real ? 'r' : 'k'}-${i}`, real, 'Succeeded'));
    }
    console.log(
      `${where}: create → Running p50 ${secs(median(running))}, p90 ${secs(percentile(running, 90))}; ` +
        `create → Succeeded p50 ${secs(median(done))}, p90 ${secs(percentile(done, 90))} (${PODS} Pods each, one at a time)`,
    );
  }
}

/** The catalog with the stream read in full every time, so every run moves every row. */
async function fullTableCatalog(): Promise<string> {
  const catalog = JSON.parse(await readFile(CATALOG, 'utf8')) as {
    streams: {
      replication_method?: string;
      metadata: { breadcrumb: string[]; metadata: Record<string, unknown> }[];
    }[];
  };
  for (const s of catalog.streams) {
    s.replication_method = 'FULL_TABLE';
    for (const m of s.metadata) {
      if (m.breadcrumb.length === 0) {
        m.metadata['replication-method'] = 'FULL_TABLE';
        delete m.metadata['replication-key'];
      }
    }
  }
  return JSON.stringify(catalog);
}

/**
 * Virtualenvs with the same plugin versions as the images, for the shell baseline, on Debian's
 * python3 (the build the images use) when the machine has it: another build of Python (pyenv's,
 * without PGO) alone moves the figure by more than the 5 % goal.
 */
const BASE_PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

function hostVenvs(): { tap: string; target: string } {
  const cache = process.env['FLEXCORE_CACHE_DIR'] ?? join(homedir(), '.cache', 'flexcore');
  const base = join(cache, BASE_PYTHON === 'python3' ? 'bench-venvs' : 'bench-venvs-debian');
  const make = (name: string, pkg: string): string => {
    const bin = join(base, name, 'bin', name);
    if (!existsSync(bin)) {
      console.log(`installing ${pkg} into ${join(base, name)} (once)`);
      execFileSync(BASE_PYTHON, ['-m', 'venv', join(base, name)], { stdio: 'inherit' });
      execFileSync(join(base, name, 'bin', 'pip'), ['install', '--quiet', pkg], { stdio: 'inherit' });
    }
    return bin;
  };
  return {
    tap: make('tap-postgres', 'meltanolabs-tap-postgres==0.10.0'),
    target: make('target-jsonl', 'target-jsonl==0.1.4'),
  };
}

async function shellRun(
  source: PodReachablePostgres,
  catalog: string,
  venvs: { tap: string; target: string },
): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'flexcore-bench-shell-'));
  try {
    await writeFile(join(dir, 'catalog.json'), catalog);
    const config = {
      host: '127.0.0.1',
      port: source.port,
      user: 'postgres',
      password: source.password,
      database: 'bench',
      filter_schemas: ['public'],
    };
    await writeFile(join(dir, 'tap.json'), JSON.stringify(config));
    await writeFile(
      join(dir, 'target.json'),
      JSON.stringify({ destination_path: join(dir, 'out'), do_timestamp_file: false }),
    );
    const cmd = `set -o pipefail; mkdir -p out && "${venvs.tap}" --config tap.json --catalog catalog.json | "${venvs.target}" --config target.json >/dev/null 2>&1`;
    const t0 = Date.now();
    const r = spawnSync('bash', ['-c', cmd], { cwd: dir, stdio: ['ignore', 'ignore', 'ignore'] });
    const took = Date.now() - t0;
    if (r.status !== 0) throw new Error(`the shell pipe failed (exit ${String(r.status)})`);
    const lines = (await readFile(join(dir, 'out', 'public-orders.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean).length;
    if (lines !== ROWS) throw new Error(`the shell pipe moved ${lines} rows, not ${ROWS}`);
    return took;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function flexcoreRun(plane: ControlPlane, run: number, outDir: string): Promise<number> {
  const ns = ['-n', NS];
  // Polled through the API client: a kubectl process every poll would take CPU from the step.
  const api = plane.kubeConfig().makeApiClient(CustomObjectsApi);
  const status = async (): Promise<{ phase?: string; id?: string; current: boolean }> => {
    const p = (await api.getNamespacedCustomObject({
      group: 'flexcore.io',
      version: 'v1alpha1',
      namespace: NS,
      plural: 'flexpipelines',
      name: 'bench',
    })) as { status?: { currentRun?: unknown; lastRun?: { id?: string; phase?: string } } };
    return { ...p.status?.lastRun, current: p.status?.currentRun !== undefined };
  };
  // The run the new spec started (the first, not counted) must be over first.
  while ((await status()).current || !(await status()).phase) await sleep(200);
  const before = (await status()).id;
  for (const f of await readdir(outDir)) await rm(join(outDir, f), { force: true });
  const t0 = Date.now();
  await plane.kubectl([
    ...ns,
    'annotate',
    '--overwrite',
    'flexpipeline',
    'bench',
    `flexcore.io/run-requested=bench-${run}`,
  ]);
  for (;;) {
    const s = await status();
    if (!s.current && s.id !== before && s.phase) {
      if (s.phase !== 'Succeeded') throw new Error(`the FlexCore run ended ${s.phase}`);
      break;
    }
    await sleep(250);
  }
  const took = Date.now() - t0;
  const file = join(outDir, 'public-orders.jsonl');
  if (!existsSync(file)) {
    const st = await plane.kubectl([
      ...ns,
      'get',
      'flexpipeline',
      'bench',
      '-o',
      'jsonpath={.status.lastRun}',
    ]);
    const pod = (JSON.parse(st) as { steps: { pod: string }[] }).steps[0]!.pod;
    const logs = await Promise.all(
      ['tap', 'target'].map((c) => plane.kubectl([...ns, 'logs', pod, '-c', c]).catch(String)),
    );
    throw new Error(
      `no ${file} after the run (files: ${(await readdir(outDir)).join(', ')}); last run: ${st}\n${logs.join('\n')}`,
    );
  }
  const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean).length;
  if (lines !== ROWS)
    throw new Error(`FlexCore moved ${lines} rows, not ${ROWS} (${(await stat(file)).size} bytes)`);
  return took;
}

async function rowsPhase(plane: ControlPlane): Promise<void> {
  await plane.realNode!.ensureImages(['tap-postgres', 'target-jsonl']);
  const venvs = hostVenvs();
  const source = await podReachablePostgres();
  const store = await startPostgres();
  const pool = new pg.Pool({ connectionString: await store.createDatabase(), max: 10 });
  try {
    console.log(`seeding ${ROWS} rows`);
    await seedOrders(source, 'bench', ROWS);
    const catalog = await fullTableCatalog();
    const outDir = join(plane.dir, 'bench-out');
    await hostPathClaim(plane, NS, 'bench-out', outDir);
    await migrate(pool);
    const manager = await Manager.start({ kubeConfig: plane.kubeConfig(), pool, namespace: NS, workers: 4 });
    try {
      const password = [{ setting: 'password', secretKeyRef: { name: 'bench-db', key: 'password' } }];
      const objects = [
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'bench-db' },
          stringData: { password: source.password },
        },
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'bench-catalog' },
          data: { 'catalog.json': catalog },
        },
        // The catalog's plugins, with room for both sides of the pair on this 2-core machine.
        catalogPlugin('tap-postgres', { resources: { limits: { cpu: '2', memory: '1Gi' } } }),
        catalogPlugin('target-jsonl', { resources: { limits: { cpu: '2', memory: '1Gi' } } }),
        {
          apiVersion: 'flexcore.io/v1alpha1',
          kind: 'FlexPipeline',
          metadata: { name: 'bench' },
          spec: {
            steps: [
              {
                name: 'el',
                plugin: 'tap-postgres',
                ...REAL_NODE_PLACEMENT,
                config: {
                  host: source.podHost,
                  port: source.port,
                  user: 'postgres',
                  database: 'bench',
                  filter_schemas: ['public'],
                },
                configFrom: password,
                volumes: [{ name: 'catalog', mountPath: '/catalog', configMap: { name: 'bench-catalog' } }],
                target: {
                  plugin: 'target-jsonl',
                  config: { destination_path: '/data/out', do_timestamp_file: false },
                  volumes: [
                    {
                      name: 'out',
                      mountPath: '/data/out',
                      persistentVolumeClaim: { claimName: 'bench-out' },
                    },
                  ],
                },
              },
            ],
          },
        },
      ];
      await plane.kubectl(['apply', '-n', NS, '-f', '-'], objects.map((o) => stringify(o)).join('---\n'));
      // The run of the new spec warms the page cache and the images; it is not counted.
      const flex: number[] = [];
      const shell: number[] = [];
      for (let k = 1; k <= RUNS; k++) {
        flex.push(await flexcoreRun(plane, k, outDir));
        shell.push(await shellRun(source, catalog, venvs));
        console.log(
          `run ${k}/${RUNS}: FlexCore step ${secs(flex.at(-1)!)}, shell pipe ${secs(shell.at(-1)!)}`,
        );
      }
      const f = median(flex);
      const s = median(shell);
      console.log(
        `${ROWS} rows, median of ${RUNS}: FlexCore step ${secs(f)} (${Math.round(ROWS / (f / 1000))} rows/s), ` +
          `shell pipe ${secs(s)} (${Math.round(ROWS / (s / 1000))} rows/s); ratio ${(s / f).toFixed(3)}, overhead ${((f / s - 1) * 100).toFixed(1)} % (goal < 5 %)`,
      );
    } finally {
      await manager.stop();
    }
  } finally {
    await pool.end();
    await store.stop();
    await source.server.stop();
  }
}

const plane = await ControlPlane.start({ realNode: true });
try {
  await installCrds(plane);
  await createRestrictedNamespace(plane, NS);
  if (PHASES.includes('pods')) await podsPhase(plane);
  if (PHASES.includes('rows')) await rowsPhase(plane);
} finally {
  await plane.stop();
}
