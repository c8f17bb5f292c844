/**
 * Benchmark: the engine's throughput against the plane's physical limit, in the same run
 * (docs/performance.md tells the method and the results). For each N and each of BENCH_RUNS
 * runs (3), on a fresh plane (kwok runs the Pods) and PostgreSQL:
 *
 * 1. bare Pods: N restricted Pods through their whole life, created at 64 in flight → Pods
 *    completed/s, create → Succeeded p50/p99, and the creation-only rate beside it;
 * 2. first runs: N new one-step pipelines at 64 in flight → runs completed/s, create → Pod and
 *    create → Succeeded p50/p99;
 * 3. steady state, all at once, twice: `flexcore.io/run-requested` set on all N at 64 in flight
 *    → runs completed/s, trigger → Pod and trigger → Succeeded p50/p99 (the second is the
 *    headline);
 * 4. open loop: triggers at a fixed rate of 50 % of (3)'s, not waiting for completions →
 *    trigger → Pod and trigger → Succeeded p50/p99, and the rate achieved.
 *
 * Phases 2–4 also report the controllers' Kubernetes API requests per run by verb and resource,
 * their CPU ms per run and every process's CPU; the run ends with the controllers' peak RSS.
 * Headline: (3)'s runs/s ÷ (1)'s completed Pods/s. Each run prints its table and one JSON line
 * (every figure); each N ends with the medians of its runs.
 *
 *   node --import tsx test/bench/engine.ts [N=500] [N2 ...]
 *
 * BENCH_QPS / BENCH_BURST set the controller's client-side rate limit (default 0: none, so the
 * engine itself is measured); BENCH_WORKERS its reconcile workers (8); BENCH_CPU_PROFILE=<dir>
 * writes each controller's V8 CPU profile there. BENCH_REPLICAS and BENCH_BUCKETS run several
 * controller processes sharing the buckets (active/active); requests and CPU are then summed
 * over them, RSS is the largest. Idle memory of many watched pipelines: engine-idle.ts.
 * BENCH_TRACING=compare runs each run twice in turn, without and with run traces sent to a real
 * OpenTelemetry Collector (and info-level run logs), and prints the controller CPU per run of
 * both and their ratio.
 */
import { execFileSync } from 'node:child_process';
import { ControlPlane } from '../../hack/plane/control-plane.js';
import { installCrds } from '../../hack/plane/setup.js';
import { startPostgres } from '../../hack/services/postgres.js';
import { barePods } from './engine/bare-pods.js';
import { settingsFromEnv, type ControllerSettings } from './engine/controllers.js';
import { startCollector } from '../integration/support/otel-collector.js';
import { pipelinePhases } from './engine/pipelines.js';
import { describeRow, type Row } from './engine/report.js';
import { medianOf } from './stats.js';

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const SIZES = sizes.length ? sizes : [500];
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const CONCURRENCY = 64;
const SETTINGS = settingsFromEnv();

/**
 * BENCH_TRACING=compare: each run twice in turn, without and with run traces (to a real
 * OpenTelemetry Collector) and info-level run logs; the controller CPU per run of both, and
 * their ratio, per phase.
 */
async function compareTracing(): Promise<void> {
  const collector = await startCollector();
  try {
    for (const n of SIZES) {
      const off: Row[] = [];
      const on: Row[] = [];
      for (let k = 1; k <= RUNS; k++) {
        off.push(await run(n));
        on.push(await run(n, { ...SETTINGS, tracing: collector.endpoint }));
        console.log(JSON.stringify({ n, k, off: off[k - 1], on: on[k - 1] }));
      }
      const [a, b] = [medianOf(off), medianOf(on)];
      const cpu = (r: Row): Record<string, number> => ({
        first: r.first.controllerCpuMsPerRun,
        steady: r.steady2.controllerCpuMsPerRun,
        openLoop: r.open.controllerCpuMsPerRun,
      });
      const [ca, cb] = [cpu(a), cpu(b)];
      console.log(`\nN=${n}, medians of ${RUNS}: controller CPU ms per run, tracing and run logs off → on`);
      for (const phase of Object.keys(ca))
        console.log(
          `  ${phase.padEnd(9)} ${ca[phase]!.toFixed(2)} → ${cb[phase]!.toFixed(2)} (× ${(cb[phase]! / ca[phase]!).toFixed(3)})`,
        );
      console.log(
        `  steady ratio ${a.ratio.toFixed(2)} → ${b.ratio.toFixed(2)}; spans received: ${(await collector.spans()).length}`,
      );
    }
  } finally {
    await collector.stop();
  }
}

/** One run on a fresh plane and database, so runs do not inherit each other's objects. */
async function run(n: number, settings: ControllerSettings = SETTINGS): Promise<Row> {
  const plane = await ControlPlane.start();
  const pg = await startPostgres();
  try {
    await installCrds(plane);
    const bare = await barePods(plane, n, CONCURRENCY);
    const flex = await pipelinePhases(plane, await pg.createDatabase(), n, settings, CONCURRENCY);
    return { n, bare, ...flex, ratio: flex.steady2.runsPerSecond / bare.completedPerSecond };
  } finally {
    await pg.stop();
    await plane.stop();
  }
}

execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
console.log(`controllers: ${SETTINGS.replicas} process(es) sharing ${SETTINGS.buckets} bucket(s)`);
if (process.env.BENCH_TRACING === 'compare') {
  await compareTracing();
  process.exit(0);
}
for (const n of SIZES) {
  const rows: Row[] = [];
  for (let k = 1; k <= RUNS; k++) {
    const row = await run(n);
    rows.push(row);
    console.log(`\n${describeRow(`N=${n} run ${k}/${RUNS}`, row)}`);
    console.log(JSON.stringify(row));
  }
  console.log(`\n${describeRow(`N=${n} median of ${RUNS} run(s)`, medianOf(rows))}`);
}
