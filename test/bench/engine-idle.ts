/**
 * Benchmark: the controller's memory with many pipelines watched and idle. On a fresh plane and
 * PostgreSQL it creates N one-step pipelines with `spec.suspend: true` (they never run) at 64 in
 * flight, waits until each shows `status.observedGeneration >= 1` (reconciled once), waits 10 s
 * more, and reports the controller's VmRSS and VmHWM, the time from the first create sent to
 * the last pipeline seen reconciled, and the API requests per pipeline by verb and resource.
 *
 *   node --import tsx test/bench/engine-idle.ts [N=10000]
 *
 * BENCH_IDLE_SCHEDULED=1 gives each pipeline a yearly schedule instead of suspending it (it
 * still never runs, but has its next-schedule gauge). Either way the run ends with /metrics:
 * the median of 10 scrapes' time, its size and its per-pipeline series.
 *
 * BENCH_REPLICAS / BENCH_BUCKETS / BENCH_QPS / BENCH_BURST / BENCH_WORKERS / BENCH_CPU_PROFILE as
 * for engine.ts (memory is then the largest process's).
 */
import { execFileSync } from 'node:child_process';
import { KubeClient } from '../../controller/apply/kube-client.js';
import { ControlPlane } from '../../hack/plane/control-plane.js';
import { createRestrictedNamespace, installCrds } from '../../hack/plane/setup.js';
import { startPostgres } from '../../hack/services/postgres.js';
import { countsPer, describeCounts, totalOf, type RequestCounts } from './engine/api-requests.js';
import { Controllers, settingsFromEnv } from './engine/controllers.js';
import { pool, sleep, until } from './engine/load.js';
import { createPipeline, createPlugin } from './engine/manifests.js';
import { RunWatch } from './engine/run-watch.js';
import { median } from './stats.js';

const N = Number(process.argv[2] ?? 10_000);
const CONCURRENCY = 64;
const SETTLE_MS = 10_000;

interface IdleFigures {
  readonly n: number;
  /** First create sent → last pipeline seen with observedGeneration ≥ 1. */
  readonly reconcileAllSeconds: number;
  /** The largest VmRSS of the controllers before the first create, MiB. */
  readonly rssBeforeMiB: number;
  /** 10 s after the last pipeline was reconciled. */
  readonly rssMiB: number;
  readonly peakRssMiB: number;
  readonly requestsPerPipeline: number;
  readonly requestsByKind: RequestCounts;
  /** GET /metrics: median wall ms of 10, bytes, and series with a pipeline label. */
  readonly scrapeMs: number;
  /** The same before the first pipeline was created: what every scrape costs anyway. */
  readonly scrapeBeforeMs: number;
  readonly scrapeBytes: number;
  readonly pipelineSeries: number;
}

const SCHEDULED = process.env.BENCH_IDLE_SCHEDULED === '1';

async function idle(plane: ControlPlane, databaseUrl: string): Promise<IdleFigures> {
  const namespace = 'idle';
  await createRestrictedNamespace(plane, namespace);
  const kc = plane.kubeConfig();
  const kube = new KubeClient(kc, { qps: 0 });
  await createPlugin(kube, namespace);
  const controllers = await Controllers.start(plane, databaseUrl, namespace, settingsFromEnv());
  const watch = new RunWatch(kc, namespace);
  try {
    await watch.start();
    watch.expect((p) => (p.status?.observedGeneration ?? 0) >= 1);
    const rssBeforeMiB = controllers.memoryMiB('VmRSS');
    const before = await controllers.requests();
    const scrapesBefore = [];
    for (let i = 0; i < 10; i++) scrapesBefore.push((await controllers.scrape()).ms);
    const names = Array.from({ length: N }, (_, i) => `idle-${i}`);
    const t0 = performance.now();
    await pool(names, CONCURRENCY, (name) =>
      createPipeline(kube, namespace, name, SCHEDULED ? { schedule: '0 0 1 1 *' } : { suspend: true }),
    );
    await until(
      () => watch.doneCount === N,
      30 * 60_000,
      () => `only ${watch.doneCount}/${N} pipelines reconciled`,
    );
    const last = Math.max(...names.map((x) => watch.doneAt(x)!));
    await sleep(SETTLE_MS);
    const requestsByKind = countsPer(await controllers.requests(), before, N);
    const scrapes = [];
    for (let i = 0; i < 10; i++) scrapes.push(await controllers.scrape());
    const text = scrapes[0]!.text;
    return {
      scrapeMs: median(scrapes.map((s) => s.ms)),
      scrapeBeforeMs: median(scrapesBefore),
      scrapeBytes: Buffer.byteLength(text),
      pipelineSeries: text.split('\n').filter((l) => l.includes('pipeline="')).length,
      n: N,
      reconcileAllSeconds: (last - t0) / 1000,
      rssBeforeMiB,
      rssMiB: controllers.memoryMiB('VmRSS'),
      peakRssMiB: controllers.memoryMiB('VmHWM'),
      requestsPerPipeline: totalOf(requestsByKind),
      requestsByKind,
    };
  } finally {
    await watch.stop();
    await controllers.stop();
  }
}

execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
const plane = await ControlPlane.start();
const pg = await startPostgres();
try {
  await installCrds(plane);
  const f = await idle(plane, await pg.createDatabase());
  console.log(
    `N=${f.n} ${SCHEDULED ? 'scheduled (yearly)' : 'suspended'} pipelines: all reconciled in ${f.reconcileAllSeconds.toFixed(1)} s ` +
      `(${(f.n / f.reconcileAllSeconds).toFixed(0)}/s); controller RSS ${f.rssMiB.toFixed(0)} MiB ` +
      `${SETTLE_MS / 1000} s later (${f.rssBeforeMiB.toFixed(0)} MiB before), peak ${f.peakRssMiB.toFixed(0)} MiB; ` +
      `API requests / pipeline ${f.requestsPerPipeline.toFixed(2)}: ${describeCounts(f.requestsByKind)}; ` +
      `/metrics ${(f.scrapeBytes / 1024).toFixed(0)} KiB, ${f.pipelineSeries} per-pipeline series, ${f.scrapeMs.toFixed(1)} ms (median of 10; ${f.scrapeBeforeMs.toFixed(1)} ms with no pipeline)`,
  );
  console.log(JSON.stringify(f));
} finally {
  await pg.stop();
  await plane.stop();
}
