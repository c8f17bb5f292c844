/**
 * The main job: brings up the local control plane (with the real node when the machine allows
 * it: root and hack/install-node.sh's packages; --kwok skips it), installs the CRDs, starts the
 * FlexCore controller (event store: DATABASE_URL, or the embedded PostgreSQL), applies the
 * samples (plugins/catalog and docs/samples; their Pods run on the kwok node), requests a
 * manual run of the scheduled sample, runs the real-node demo (hack/demo/real-demo.ts: real
 * plugins moving a seeded table) and shows the pipelines' progress until every run has
 * finished, then the rows that arrived. Keeps running (so you can use kubectl) until Ctrl-C;
 * with --once it stops when the runs have finished.
 */
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { createLogger } from '../controller/log.js';
import { Manager } from '../controller/manager.js';
import { startHttpServer, type HttpServer } from '../controller/server/http-server.js';
import { createPool, storeConfigFromEnv, type StoreConfig } from '../controller/store/connection.js';
import { runRows } from '../controller/cli/api/runs.js';
import type { RunItem } from '../controller/cli/api/endpoints.js';
import { formatTable } from '../controller/cli/api/table.js';
import { replicaApi } from '../controller/cli/replica-api.js';
import { startEmbeddedStore } from '../controller/store/embedded-postgres.js';
import { join } from 'node:path';
import { startRealDemo } from './demo/real-demo.js';
import { hostPathClaim } from './demo/host-path-claim.js';
import { ControlPlane } from './plane/control-plane.js';
import { PrerequisiteError } from './plane/errors.js';
import { checkHostTools } from './plane/node/prerequisites.js';
import { createRestrictedNamespace, installCrds } from './plane/setup.js';

const NAMESPACE = 'flexcore-demo';
const CATALOG = fileURLToPath(new URL('../plugins/catalog/', import.meta.url));
const SAMPLES = fileURLToPath(new URL('../docs/samples/', import.meta.url));
const once = process.argv.includes('--once');
const kwokOnly = process.argv.includes('--kwok');
const t0 = Date.now();
const say = (line: string): void =>
  console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${line}`);

const cleanups: (() => Promise<void>)[] = [];
let stopping: Promise<void> | undefined;
const shutdown = (): Promise<void> => {
  stopping ??= (async () => {
    say('stopping the controller, the event store and the control plane');
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  })();
  return stopping;
};
// Ctrl-C at any point stops what was started.
const signalled = new Promise<void>((resolve) => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
});
void signalled.then(shutdown);

async function startStore(): Promise<{ pool: pg.Pool; config: StoreConfig & { url: string } }> {
  const config = storeConfigFromEnv(process.env);
  let url = config.url;
  if (url === undefined) {
    say('starting the embedded PostgreSQL (no DATABASE_URL set)');
    const embedded = await startEmbeddedStore();
    say(`event store: embedded PostgreSQL in ${embedded.baseDir}`);
    cleanups.unshift(() => embedded.stop());
    url = embedded.url;
  } else say('event store: DATABASE_URL');
  const pool = createPool({ ...config, url });
  cleanups.unshift(() => pool.end());
  return { pool, config: { ...config, url } };
}

interface Shown {
  metadata: { name: string };
  spec: { schedule?: string };
  status?: {
    phase?: string;
    progress?: string;
    currentRun?: { id: string };
    lastRun?: { id: string; phase: string };
  };
}

/** Prints each pipeline's phase when it changes; resolves when no run is active or pending. */
async function showProgress(plane: ControlPlane): Promise<void> {
  const seen = new Map<string, string>();
  for (;;) {
    const list = JSON.parse(await plane.kubectl(['get', 'flexpipelines', '-n', NAMESPACE, '-o', 'json'])) as {
      items: Shown[];
    };
    for (const p of list.items) {
      const s = p.status ?? {};
      const line = `${p.metadata.name}: ${s.phase ?? 'new'} ${s.progress ?? ''} ${s.currentRun?.id ?? s.lastRun?.id ?? ''}`;
      if (seen.get(p.metadata.name) !== line) say(line);
      seen.set(p.metadata.name, line);
    }
    const busy = list.items.some((p) => !p.status?.lastRun || p.status.currentRun);
    if (!busy) return;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Sets flexcore.io/run-requested and waits until the controller took it up (the run is then in the status). */
async function requestRun(plane: ControlPlane, pipeline: string, value: string): Promise<void> {
  await plane.kubectl([
    'annotate',
    '--overwrite',
    '-n',
    NAMESPACE,
    'flexpipeline',
    pipeline,
    `flexcore.io/run-requested=${value}`,
  ]);
  for (;;) {
    const p = JSON.parse(
      await plane.kubectl(['get', 'flexpipeline', pipeline, '-n', NAMESPACE, '-o', 'json']),
    ) as {
      status?: { lastRunRequest?: string };
    };
    if (p.status?.lastRunRequest === value) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Whether this machine can run the real node; says why not in one line. */
async function realNodeAvailable(): Promise<boolean> {
  if (kwokOnly) {
    say('real node: off (--kwok); every step Pod runs on the kwok node');
    return false;
  }
  try {
    await checkHostTools();
    return true;
  } catch (err) {
    const why =
      err instanceof PrerequisiteError
        ? err.message
            .split('\n')
            .slice(1, 2)
            .join('')
            .replace(/^\s*-\s*/, '')
        : String(err);
    say(`real node: not available (${why}); every step Pod runs on the kwok node`);
    return false;
  }
}

async function main(): Promise<HttpServer> {
  const realNode = await realNodeAvailable();
  const plane = await ControlPlane.start({ log: say, realNode });
  cleanups.unshift(() => plane.stop());
  say('installing the FlexCore CRDs');
  await installCrds(plane);
  const { pool, config } = await startStore();
  say('starting the FlexCore controller');
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'warn', format: 'text' });
  const manager = await Manager.start({ kubeConfig: plane.kubeConfig(), pool, logger });
  cleanups.unshift(() => manager.stop());
  // Local run on loopback: the status API without authorization (the controller says so).
  const api = replicaApi({
    manager,
    storeConfig: config,
    mode: 'none',
    kc: plane.kubeConfig(),
    registry: manager.registry,
    logger,
    env: process.env,
  });
  cleanups.unshift(() => api.stop());
  const server = await startHttpServer({
    readiness: manager,
    registry: manager.registry,
    port: Number(process.env.FLEXCORE_PORT ?? 0),
    host: '127.0.0.1',
    api: api.router,
  });
  cleanups.unshift(() => server.close());
  const base = `http://127.0.0.1:${server.port}`;
  say(`controller serving ${base}/healthz, /readyz and /metrics`);
  say(
    `status API (no authorization on this local run): ${base}/api/v1/runs, ${base}/api/v1/stream, ${base}/api/v1/openapi.json`,
  );
  say(`creating namespace ${NAMESPACE} (Pod Security: restricted)`);
  await createRestrictedNamespace(plane, NAMESPACE);
  // The sample orders-nightly keeps its files on this claim: a hostPath volume of this machine.
  await hostPathClaim(plane, NAMESPACE, 'orders-files', join(plane.dir, 'orders-files'));
  say('applying plugins/catalog and docs/samples (their step Pods run on the kwok node)');
  process.stdout.write(await plane.kubectl(['apply', '-n', NAMESPACE, '-f', CATALOG, '-f', SAMPLES]));
  const demo = realNode ? await startRealDemo(plane, NAMESPACE, say) : undefined;
  if (demo) cleanups.unshift(() => demo.stop());
  say('requesting a manual run of orders-nightly (flexcore.io/run-requested)');
  await requestRun(plane, 'orders-nightly', `demo-${Date.now()}`);
  say(
    demo
      ? 'waiting for the runs to finish (kwok completes the samples at once; the demo really runs)'
      : 'waiting for the runs to finish (the kwok node completes each step Pod at once)',
  );
  await showProgress(plane);
  if (demo) {
    process.stdout.write(await demo.report());
    say(await demo.changeSource());
    say(`requesting run 2 of ${demo.incremental}: its tap starts from run 1's state`);
    await requestRun(plane, demo.incremental, `demo-2-${Date.now()}`);
    await showProgress(plane);
    process.stdout.write(await demo.reportIncrement());
  }
  say(`kubectl get flexplugins,flexpipelines,pods -n ${NAMESPACE}`);
  process.stdout.write(
    await plane.kubectl(['get', 'flexplugins,flexpipelines,pods', '-n', NAMESPACE, '-o', 'wide']),
  );
  await showRunsFromApi(`http://127.0.0.1:${server.port}`);
  console.log(`
The control plane and the controller are up. Use them with:
  export KUBECONFIG=${plane.kubeconfigPath}
  ${plane.binDir}/kubectl get flexcore -n ${NAMESPACE}
  ${plane.binDir}/kubectl annotate flexpipeline orders-refresh -n ${NAMESPACE} flexcore.io/run-requested=$(date +%s)
  curl http://127.0.0.1:${server.port}/metrics
  curl http://127.0.0.1:${server.port}/api/v1/namespaces/${NAMESPACE}/runs
  curl -N http://127.0.0.1:${server.port}/api/v1/stream?namespace=${NAMESPACE}
`);
  return server;
}

/** The run history as the status API serves it, in the table `flexcore runs` prints. */
async function showRunsFromApi(base: string): Promise<void> {
  const url = `${base}/api/v1/namespaces/${NAMESPACE}/runs?limit=20`;
  say(`GET ${url}`);
  const page = (await (await fetch(url)).json()) as { items: RunItem[] };
  const { headers, rows } = runRows(page.items, new Date(), false);
  process.stdout.write(formatTable(headers, rows));
}

try {
  await main();
} catch (err) {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}

if (once || process.exitCode) {
  await shutdown();
} else {
  say('running; press Ctrl-C to stop');
  await signalled;
  await shutdown();
}
