/**
 * Benchmark: N one-step pipelines applied at once on the local plane (kwok completes Pods at
 * once), against the raw limit measured in the same run: a client-node loop creating N plain
 * Pods at full concurrency. Reports create → Pod p50/p99, create → run Succeeded p50/p99,
 * Pods created per second (and as a ratio of raw), the controller's peak RSS (VmHWM of its
 * process) and Kubernetes API requests per pipeline (its rest_client_requests_total).
 *
 *   node --import tsx test/bench/engine.ts [N=500] [N2 ...]   (BENCH_RUNS runs each, 3 by default)
 *
 * BENCH_QPS / BENCH_BURST set the controller's client-side rate limit (default 0: none, so
 * the engine itself is measured); BENCH_WORKERS its reconcile workers (default 8);
 * BENCH_CPU_PROFILE=<dir> writes the controller's V8 CPU profile there. BENCH_REPLICAS and
 * BENCH_BUCKETS run several controller processes sharing the buckets (active/active); requests
 * and CPU are then summed over them, RSS is the largest. The controller runs
 * compiled (`npm run build`, as in the image), not through tsx: the loader's worker thread
 * and transpile caches would be counted in its memory.
 *
 * Each phase also reports the CPU seconds every part of the system spent in it (apiserver,
 * etcd, kwok, scheduler, controller-manager, PostgreSQL, the controller, this driver), so what
 * bounds the rate on a small machine is a number, not a guess.
 */
import { execFileSync, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { restrictedPod } from '../integration/support/pods.js';
import { KubeClient } from '../../controller/apply/kube-client.js';
import { Informer } from '../../controller/kube/informer.js';
import { silentLogger } from '../../controller/log.js';
import { ControlPlane } from '../../hack/plane/control-plane.js';
import { createRestrictedNamespace, installCrds } from '../../hack/plane/setup.js';
import { startPostgres } from '../../hack/services/postgres.js';
import { freePort } from '../../hack/plane/ports.js';
import { cpuSpent, memoryMiB, pidsNamed, sampleCpu, type CpuSample, type Groups } from './proc.js';
import { median, percentile } from './stats.js';

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const SIZES = sizes.length ? sizes : [500];
const CONCURRENCY = 64;
/** Controller processes and buckets (BENCH_REPLICAS, BENCH_BUCKETS): 1 × 1 by default. */
const REPLICAS = Math.max(1, Number(process.env.BENCH_REPLICAS ?? 1));
const BUCKETS = Math.max(1, Number(process.env.BENCH_BUCKETS ?? 1));

async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** The plane's processes, PostgreSQL's, and this driver's; `extra` adds more. */
function groups(plane: ControlPlane, extra: Groups = {}): Groups {
  const component = (name: string) => (): number[] => {
    const pid = plane.component(name)?.pid;
    return pid ? [pid] : [];
  };
  return {
    'kube-apiserver': component('kube-apiserver'),
    etcd: component('etcd'),
    kwok: component('kwok'),
    'kube-scheduler': component('kube-scheduler'),
    'kube-controller-manager': component('kube-controller-manager'),
    postgres: () => pidsNamed('postgres'),
    ...extra,
    driver: () => [process.pid],
  };
}

interface Phase {
  readonly seconds: number;
  /** CPU seconds per group during the phase. */
  readonly cpu: CpuSample;
}

function describePhase(name: string, phase: Phase): string {
  const capacity = phase.seconds * availableParallelism();
  const total = Object.values(phase.cpu).reduce((a, b) => a + b, 0);
  const parts = Object.entries(phase.cpu)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(', ');
  return `  ${name}: ${phase.seconds.toFixed(1)} s wall, CPU ${total.toFixed(1)} s of ${capacity.toFixed(1)} (${((100 * total) / capacity).toFixed(0)} %): ${parts}`;
}

/** Creates N plain Pods at full concurrency; the rate counts creation only, then waits for kwok to finish them. */
async function rawRate(plane: ControlPlane, n: number): Promise<{ podsPerSecond: number; phase: Phase }> {
  const ns = `raw-${n}`;
  await createRestrictedNamespace(plane, ns);
  const core = plane.kubeConfig().makeApiClient(CoreV1Api);
  const names = Array.from({ length: n }, (_, i) => `raw-${i}`);
  const cpu0 = sampleCpu(groups(plane));
  const t0 = performance.now();
  await pool(names, CONCURRENCY, async (name) => {
    await core.createNamespacedPod({ namespace: ns, body: restrictedPod(name) });
  });
  const seconds = (performance.now() - t0) / 1000;
  const phase = { seconds, cpu: cpuSpent(cpu0, sampleCpu(groups(plane))) };
  // kwok's work on these Pods must not spill into the next phase.
  for (;;) {
    const { items } = await core.listNamespacedPod({ namespace: ns });
    if (items.every((p) => ['Succeeded', 'Failed'].includes(p.status?.phase ?? ''))) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  return { podsPerSecond: n / seconds, phase };
}

/** The sum of a metric's series on one controller. */
async function metricSum(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

/** Kubernetes API requests of every controller (informer lists and watches are not counted). */
async function scrapeAll(ports: readonly number[]): Promise<{ requests: number }> {
  const each = await Promise.all(ports.map((p) => metricSum(p, 'rest_client_requests_total')));
  return { requests: each.reduce((a, b) => a + b, 0) };
}

/** Waits until every bucket is led and nobody leads more than its share. */
async function balanced(ports: readonly number[]): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const held = await Promise.all(ports.map((p) => metricSum(p, 'leader_election_master_status')));
    const sum = held.reduce((a, b) => a + b, 0);
    if (sum === BUCKETS && held.every((h) => h <= Math.ceil(BUCKETS / ports.length))) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the buckets were never shared out');
}

interface Figures {
  createToPodP50: number;
  createToPodP99: number;
  createToSucceededP50: number;
  createToSucceededP99: number;
  /** N / (last Pod seen − first pipeline create sent). */
  podsPerSecond: number;
  peakRssMiB: number;
  apiRequestsPerPipeline: number;
  /** From the first create to the last run Succeeded. */
  phase: Phase;
}

async function flexcoreRun(plane: ControlPlane, databaseUrl: string, n: number): Promise<Figures> {
  const ns = `flex-${n}`;
  await createRestrictedNamespace(plane, ns);
  const kc = plane.kubeConfig();
  const kube = new KubeClient(kc, { qps: 0 });
  await kube.create(`/apis/flexcore.io/v1alpha1/namespaces/${ns}/flexplugins`, {
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPlugin',
    metadata: { name: 'work' },
    spec: { type: 'utility', image: 'example.com/work:1', command: ['work'] },
  });
  const profile = process.env.BENCH_CPU_PROFILE;
  const nodeArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  const controllers = await Promise.all(
    Array.from({ length: REPLICAS }, async (_, i) => {
      const port = await freePort();
      const child = spawn(process.execPath, [...nodeArgs, 'dist/controller/cli/main.js', 'controller'], {
        env: {
          ...process.env,
          KUBECONFIG: plane.kubeconfigPath,
          DATABASE_URL: databaseUrl,
          WATCH_NAMESPACE: ns,
          FLEXCORE_PORT: String(port),
          FLEXCORE_KUBE_QPS: process.env.BENCH_QPS ?? '0',
          FLEXCORE_KUBE_BURST: process.env.BENCH_BURST ?? '100',
          FLEXCORE_WORKERS: process.env.BENCH_WORKERS ?? '8',
          FLEXCORE_BUCKETS: String(BUCKETS),
          POD_NAME: `bench-controller-${i}`,
          LOG_LEVEL: 'error',
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      const exited = new Promise((r) => child.once('exit', r));
      return { port, child, exited };
    }),
  );
  for (const { port } of controllers) {
    for (let i = 0; ; i++) {
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (i > 600) throw new Error('the controller did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await balanced(controllers.map((c) => c.port));
  const created = new Map<string, number>();
  const podSeen = new Map<string, number>();
  const succeeded = new Map<string, number>();
  const pods = new Informer<V1Pod>({
    kubeConfig: kc,
    path: `/api/v1/namespaces/${ns}/pods`,
    logger: silentLogger,
    resyncMs: 0,
  });
  const onPod = (p: Readonly<V1Pod>): void => {
    const name = p.metadata?.labels?.['flexcore.io/pipeline'];
    if (name && !podSeen.has(name)) podSeen.set(name, performance.now());
  };
  pods.onAdd(onPod).onUpdate((_, p) => onPod(p));
  type P = { metadata: { name: string }; status?: { phase?: string } };
  const pipelines = new Informer<P & { apiVersion: string; kind: string }>({
    kubeConfig: kc,
    path: `/apis/flexcore.io/v1alpha1/namespaces/${ns}/flexpipelines`,
    logger: silentLogger,
    resyncMs: 0,
  });
  const onPipeline = (p: Readonly<P>): void => {
    if (p.status?.phase === 'Succeeded' && !succeeded.has(p.metadata.name))
      succeeded.set(p.metadata.name, performance.now());
  };
  pipelines.onAdd(onPipeline).onUpdate((_, p) => onPipeline(p));
  await Promise.all([pods.start(), pipelines.start()]);
  const before = await scrapeAll(controllers.map((c) => c.port));

  const names = Array.from({ length: n }, (_, i) => `p-${i}`);
  // One CPU group per controller process: with several replicas, how the work is shared shows.
  const all = groups(
    plane,
    Object.fromEntries(
      controllers.map((c, i) => [
        REPLICAS > 1 ? `controller-${i}` : 'controller',
        () => (c.child.pid ? [c.child.pid] : []),
      ]),
    ),
  );
  const cpu0 = sampleCpu(all);
  const t0 = performance.now();
  await pool(names, CONCURRENCY, async (name) => {
    const start = performance.now();
    await kube.create(`/apis/flexcore.io/v1alpha1/namespaces/${ns}/flexpipelines`, {
      apiVersion: 'flexcore.io/v1alpha1',
      kind: 'FlexPipeline',
      metadata: { name },
      spec: { steps: [{ name: 'only', plugin: 'work' }] },
    });
    created.set(name, start);
  });
  while (succeeded.size < n) {
    if (performance.now() - t0 > 15 * 60_000)
      throw new Error(`only ${succeeded.size}/${n} succeeded after 15 min`);
    await new Promise((r) => setTimeout(r, 200));
  }
  const phase = { seconds: (performance.now() - t0) / 1000, cpu: cpuSpent(cpu0, sampleCpu(all)) };
  const after = await scrapeAll(controllers.map((c) => c.port));
  const hwm = Math.max(...controllers.map((c) => memoryMiB(c.child.pid, 'VmHWM')));
  for (const c of controllers) c.child.kill('SIGTERM');
  await Promise.all(controllers.map((c) => c.exited));
  await Promise.all([pods.stop(), pipelines.stop()]);

  const toPod = names.map((x) => podSeen.get(x)! - created.get(x)!);
  const toDone = names.map((x) => succeeded.get(x)! - created.get(x)!);
  const lastPod = Math.max(...podSeen.values());
  return {
    createToPodP50: percentile(toPod, 50),
    createToPodP99: percentile(toPod, 99),
    createToSucceededP50: percentile(toDone, 50),
    createToSucceededP99: percentile(toDone, 99),
    podsPerSecond: n / ((lastPod - t0) / 1000),
    peakRssMiB: hwm,
    apiRequestsPerPipeline: (after.requests - before.requests) / n,
    phase,
  };
}

type Row = Figures & { n: number; rawPodsPerSecond: number; rawPhase: Phase; ratio: number };

function describe(label: string, row: Row): string {
  return (
    `${label}: create→Pod p50 ${row.createToPodP50.toFixed(0)} ms, p99 ${row.createToPodP99.toFixed(0)} ms; ` +
    `create→Succeeded p50 ${row.createToSucceededP50.toFixed(0)} ms, p99 ${row.createToSucceededP99.toFixed(0)} ms; ` +
    `Pods/s ${row.podsPerSecond.toFixed(1)} vs raw ${row.rawPodsPerSecond.toFixed(1)} (ratio ${row.ratio.toFixed(2)}); ` +
    `peak RSS ${row.peakRssMiB.toFixed(0)} MiB; API requests/pipeline ${row.apiRequestsPerPipeline.toFixed(1)}`
  );
}

/** One run on a fresh plane and database, so runs do not inherit each other's objects. */
async function run(n: number): Promise<Row> {
  const plane = await ControlPlane.start();
  const pg = await startPostgres();
  try {
    await installCrds(plane);
    const { podsPerSecond: raw, phase: rawPhase } = await rawRate(plane, n);
    const flex = await flexcoreRun(plane, await pg.createDatabase(), n);
    return { n, rawPodsPerSecond: raw, rawPhase, ...flex, ratio: flex.podsPerSecond / raw };
  } finally {
    await pg.stop();
    await plane.stop();
  }
}

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
console.log(`controllers: ${REPLICAS} process(es) sharing ${BUCKETS} bucket(s)`);
for (const n of SIZES) {
  const rows: Row[] = [];
  for (let k = 1; k <= RUNS; k++) {
    const row = await run(n);
    rows.push(row);
    console.log(JSON.stringify(row));
    console.log(describe(`N=${n} run ${k}/${RUNS}`, row));
    console.log(describePhase('raw Pod creation', row.rawPhase));
    console.log(describePhase('FlexCore, create to last Succeeded', row.phase));
  }
  const keys = [
    'createToPodP50',
    'createToPodP99',
    'createToSucceededP50',
    'createToSucceededP99',
    'podsPerSecond',
    'peakRssMiB',
    'apiRequestsPerPipeline',
    'rawPodsPerSecond',
    'ratio',
  ] as const;
  const med = Object.fromEntries(keys.map((key) => [key, median(rows.map((r) => r[key]))]));
  console.log(describe(`N=${n} median of ${RUNS}`, { ...rows[0]!, ...med }));
}
