/**
 * Benchmark: the real node.
 *
 *   pods       Pod create → Running and create → Succeeded of bare restricted Pods, one at a
 *              time, on the real node (containerd + runc) and on the kwok node, BENCH_PODS each (10).
 *   rows       Rows per second of tap-postgres | target-jsonl moving BENCH_ROWS rows (1,000,000)
 *              as a FlexCore step on the real node (trigger → run Succeeded, so Pod start-up and
 *              the controller count against it) and as the same two programs piped in a shell on
 *              this machine (virtualenvs in the cache, same versions, same Python build: Debian's),
 *              with the same catalog, alternated, BENCH_RUNS each (3). The limit is the shell pipe
 *              measured in the same run; the goal is an overhead under 5 %.
 *   rows-pg    The same with target-postgres, loading into a schema dropped before every run.
 *   discovery  A tap step over a schema of BENCH_TABLES tables (200) that selects one small table:
 *              trigger → Succeeded when its discovery runs (flexcore.io/rediscover) and from the
 *              cache, the discovery Pod's own time, and the bare `tap-postgres --discover`.
 *
 *   node --import tsx test/bench/real-node.ts     (BENCH_PHASES=pods,rows,rows-pg,discovery to
 *                                                  pick; needs root; queues for the node lock)
 */
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { seedOrders } from '../../hack/demo/source-db.js';
import { ControlPlane, FAKE_NODE, KWOK_ANNOTATIONS } from '../../hack/plane/control-plane.js';
import { REAL_NODE, REAL_NODE_PLACEMENT } from '../../hack/plane/node/node-config.js';
import { createRestrictedNamespace, installCrds } from '../../hack/plane/setup.js';
import { discoveryPhase } from './real-node-discovery.js';
import { ROWS_DB, jsonlSink, postgresSink, rowsPhase } from './real-node-rows.js';
import { NS, hostVenv, secs, sleep, startSingerBench } from './real-node-singer.js';
import { median, percentile } from './stats.js';

const PHASES = (process.env.BENCH_PHASES ?? 'pods,rows,rows-pg,discovery').split(',');
const PODS = Number(process.env.BENCH_PODS ?? 10);
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const TABLES = Number(process.env.BENCH_TABLES ?? 200);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
/** Another suite may hold this machine's one real node: queue for it rather than fail. */
const NODE_LOCK_WAIT_MS = 40 * 60_000;
const PYTHON = 'localhost/python:3.11-slim-bookworm';

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

async function singerPhases(plane: ControlPlane): Promise<void> {
  const rows = PHASES.filter((p) => p === 'rows' || p === 'rows-pg');
  const discovery = PHASES.includes('discovery');
  if (rows.length === 0 && !discovery) return;
  await plane.realNode!.ensureImages(['tap-postgres', 'target-jsonl', 'target-postgres']);
  // The shell's virtualenvs, made now rather than between timed runs.
  for (const p of ['tap-postgres', 'target-jsonl', 'target-postgres'] as const) hostVenv(p);
  const bench = await startSingerBench(plane);
  try {
    if (rows.length > 0) {
      console.log(`seeding ${ROWS} rows`);
      await seedOrders(bench.source, ROWS_DB, ROWS);
    }
    if (rows.includes('rows')) await rowsPhase(bench, await jsonlSink(bench), ROWS, RUNS);
    if (rows.includes('rows-pg')) await rowsPhase(bench, await postgresSink(bench), ROWS, RUNS);
    if (discovery) await discoveryPhase(bench, TABLES, RUNS);
  } finally {
    await bench.stop();
  }
}

const plane = await ControlPlane.start({
  realNode: true,
  nodeLockWaitMs: NODE_LOCK_WAIT_MS,
  log: (line) => {
    if (line.startsWith('waiting for')) console.log(line);
  },
});
try {
  await installCrds(plane);
  await createRestrictedNamespace(plane, NS);
  if (PHASES.includes('pods')) await podsPhase(plane);
  await singerPhases(plane);
} finally {
  await plane.stop();
}
