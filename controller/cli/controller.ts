/**
 * `flexcore controller`: runs the engine. Kubernetes access from KUBECONFIG or the in-cluster
 * service account; the event store from DATABASE_URL, or an embedded PostgreSQL when unset.
 * SIGTERM/SIGINT stop it gracefully (work in flight finishes, nothing new starts).
 */
import { KubeConfig } from '@kubernetes/client-node';
import type pg from 'pg';
import { Failpoints } from '../failpoints.js';
import { createLogger } from '../log.js';
import { Manager } from '../manager.js';
import { startHealthServer } from '../server/health-server.js';
import { createPool, storeConfigFromEnv } from '../store/connection.js';
import { startEmbeddedStore } from '../store/embedded-postgres.js';

const USAGE = `usage: flexcore controller

Environment:
  KUBECONFIG            kubeconfig file (in-cluster service account when unset)
  DATABASE_URL          PostgreSQL URL (an embedded PostgreSQL in the state directory when unset)
  FLEXCORE_PORT         port of /healthz, /readyz and /metrics (8080)
  FLEXCORE_WORKERS      concurrent pipeline reconciles (8)
  FLEXCORE_KUBE_QPS     Kubernetes API requests per second (50), FLEXCORE_KUBE_BURST (100)
  WATCH_NAMESPACE       watch one namespace only (all when unset)
  LOG_LEVEL, LOG_FORMAT error|warn|info|debug, json|text
`;

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return n;
}

function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  if (process.env.KUBECONFIG) kc.loadFromFile(process.env.KUBECONFIG);
  else kc.loadFromCluster();
  return kc;
}

export async function runController(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const logger = createLogger();
  const config = storeConfigFromEnv(process.env);
  const cleanups: (() => Promise<void>)[] = [];
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  try {
    let url = config.url;
    if (url === undefined) {
      const embedded = await startEmbeddedStore();
      logger.info('using the embedded PostgreSQL', { dir: embedded.baseDir });
      cleanups.unshift(() => embedded.stop());
      url = embedded.url;
    }
    const pool: pg.Pool = createPool({ ...config, url }, (err) =>
      logger.warn('database connection lost', { error: err.message }),
    );
    cleanups.unshift(() => pool.end());
    const manager = await Manager.start({
      kubeConfig: kubeConfig(),
      pool,
      logger,
      workers: intEnv('FLEXCORE_WORKERS', 8),
      qps: intEnv('FLEXCORE_KUBE_QPS', 50),
      burst: intEnv('FLEXCORE_KUBE_BURST', 100),
      namespace: process.env.WATCH_NAMESPACE || undefined,
      failpoints: Failpoints.fromEnv(process.env.FLEXCORE_FAILPOINTS),
    });
    cleanups.unshift(() => manager.stop());
    const server = await startHealthServer(manager, manager.registry, intEnv('FLEXCORE_PORT', 8080));
    cleanups.unshift(() => server.close());
    logger.info('serving /healthz, /readyz and /metrics', { port: server.port });
    await stopped;
    logger.info('stopping');
    return 0;
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  }
}
