/**
 * The controller processes under test: compiled (`dist/controller/cli/main.js controller`, as
 * in the image; under tsx the loader's worker thread and transpile caches would be counted in
 * their memory), spawned, waited for (ready, buckets shared out), scraped and stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { ControlPlane } from '../../../hack/plane/control-plane.js';
import { freePort } from '../../../hack/plane/ports.js';
import { memoryMiB, type Groups } from '../proc.js';
import { addCounts, parseRequests, totalOf, type RequestCounts } from './api-requests.js';
import { sleep } from './load.js';

export interface ControllerSettings {
  /** Controller processes sharing the buckets (active/active). */
  readonly replicas: number;
  readonly buckets: number;
  /** Client-side rate limit; '0' turns it off, so the engine itself is measured. */
  readonly qps: string;
  readonly burst: string;
  readonly workers: string;
  /** Where each process writes its V8 CPU profile on exit, if set. */
  readonly cpuProfileDir: string | undefined;
  /**
   * An OTLP/HTTP endpoint: the controllers send run traces there and log at info (their run
   * log lines, to nowhere), as a traced production controller does. Unset: no traces, errors only.
   */
  readonly tracing?: string;
}

/** BENCH_REPLICAS, BENCH_BUCKETS (1 × 1), BENCH_QPS (0), BENCH_BURST (100), BENCH_WORKERS (8), BENCH_CPU_PROFILE. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): ControllerSettings {
  return {
    replicas: Math.max(1, Number(env.BENCH_REPLICAS ?? 1)),
    buckets: Math.max(1, Number(env.BENCH_BUCKETS ?? 1)),
    qps: env.BENCH_QPS ?? '0',
    burst: env.BENCH_BURST ?? '100',
    workers: env.BENCH_WORKERS ?? '8',
    cpuProfileDir: env.BENCH_CPU_PROFILE,
  };
}

interface Controller {
  readonly port: number;
  readonly child: ChildProcess;
  readonly exited: Promise<unknown>;
}

async function metricsText(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

/** The sum of a metric's series in one /metrics text. */
function metricSum(text: string, name: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

async function spawnOne(
  plane: ControlPlane,
  databaseUrl: string,
  namespace: string,
  settings: ControllerSettings,
  index: number,
): Promise<Controller> {
  const port = await freePort();
  const profile = settings.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${settings.cpuProfileDir}`] : [];
  const child = spawn(process.execPath, [...profile, 'dist/controller/cli/main.js', 'controller'], {
    env: {
      ...process.env,
      KUBECONFIG: plane.kubeconfigPath,
      DATABASE_URL: databaseUrl,
      WATCH_NAMESPACE: namespace,
      FLEXCORE_PORT: String(port),
      FLEXCORE_KUBE_QPS: settings.qps,
      FLEXCORE_KUBE_BURST: settings.burst,
      FLEXCORE_WORKERS: settings.workers,
      FLEXCORE_BUCKETS: String(settings.buckets),
      POD_NAME: `bench-controller-${index}`,
      LOG_LEVEL: settings.tracing ? 'info' : 'error',
      ...(settings.tracing && { OTEL_EXPORTER_OTLP_ENDPOINT: settings.tracing }),
    },
    stdio: ['ignore', settings.tracing ? 'ignore' : 'inherit', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  return { port, child, exited };
}

async function ready(port: number): Promise<void> {
  for (let i = 0; ; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (i > 600) throw new Error('the controller did not become ready');
    await sleep(100);
  }
}

export class Controllers {
  private constructor(
    private readonly all: readonly Controller[],
    private readonly buckets: number,
  ) {}

  /** Starts the processes and resolves once each is ready and every bucket is led by its share. */
  static async start(
    plane: ControlPlane,
    databaseUrl: string,
    namespace: string,
    settings: ControllerSettings,
  ): Promise<Controllers> {
    const all = await Promise.all(
      Array.from({ length: settings.replicas }, (_, i) =>
        spawnOne(plane, databaseUrl, namespace, settings, i),
      ),
    );
    const controllers = new Controllers(all, settings.buckets);
    try {
      for (const c of all) await ready(c.port);
      await controllers.balanced();
    } catch (err) {
      await controllers.stop();
      throw err;
    }
    return controllers;
  }

  /** Waits until every bucket is led and nobody leads more than its share. */
  private async balanced(): Promise<void> {
    for (let i = 0; i < 300; i++) {
      const held = await Promise.all(
        this.all.map(async (c) => metricSum(await metricsText(c.port), 'leader_election_master_status')),
      );
      const sum = held.reduce((a, b) => a + b, 0);
      if (sum === this.buckets && held.every((h) => h <= Math.ceil(this.buckets / this.all.length))) return;
      await sleep(200);
    }
    throw new Error('the buckets were never shared out');
  }

  /** One CPU group per process (`controller`, or `controller-<i>` with several): how work is shared shows. */
  cpuGroups(): Groups {
    const named = (i: number): string => (this.all.length > 1 ? `controller-${i}` : 'controller');
    return Object.fromEntries(this.all.map((c, i) => [named(i), () => (c.child.pid ? [c.child.pid] : [])]));
  }

  /** Kubernetes API requests so far, summed over the processes. */
  async requests(): Promise<RequestCounts> {
    const each = await Promise.all(this.all.map(async (c) => parseRequests(await metricsText(c.port))));
    return each.reduce(addCounts, {});
  }

  /**
   * Waits until no process has sent a request for `quietMs`, so work a phase left behind (a
   * Secret deleted after the status write) is counted in it and not in the next; gives up after
   * `maxMs` (background work that never stops would show in every phase anyway).
   */
  async quiet(quietMs = 500, maxMs = 10_000): Promise<void> {
    const start = performance.now();
    let last = totalOf(await this.requests());
    let since = performance.now();
    while (performance.now() - since < quietMs && performance.now() - start < maxMs) {
      await sleep(100);
      const now = totalOf(await this.requests());
      if (now !== last) [last, since] = [now, performance.now()];
    }
  }

  /** The largest VmRSS (now) or VmHWM (peak) of the processes, MiB. */
  /** One GET /metrics of the first process: wall ms and the text. */
  async scrape(): Promise<{ ms: number; text: string }> {
    const t0 = performance.now();
    const text = await metricsText(this.all[0]!.port);
    return { ms: performance.now() - t0, text };
  }

  memoryMiB(field: 'VmRSS' | 'VmHWM'): number {
    return Math.max(...this.all.map((c) => memoryMiB(c.child.pid, field)));
  }

  /** SIGTERM to each process (a CPU profile is written on the way out); resolves when all exited. */
  async stop(): Promise<void> {
    for (const c of this.all) c.child.kill('SIGTERM');
    await Promise.all(this.all.map((c) => c.exited));
  }
}
