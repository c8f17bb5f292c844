/**
 * `flexcore controller`: runs the engine. Kubernetes access from KUBECONFIG or the in-cluster
 * service account; the event store from DATABASE_URL, or an embedded PostgreSQL when unset.
 * SIGTERM/SIGINT stop it gracefully (work in flight finishes, nothing new starts).
 */
import type pg from 'pg';
import { Registry } from 'prom-client';
import { KubeClient } from '../apply/kube-client.js';
import { monotonicClock } from '../clock.js';
import { parseDuration } from '../duration.js';
import { Failpoints } from '../failpoints.js';
import { ElectedLeadership } from '../leadership/elected-leadership.js';
import { electionConfig, flagsAsEnv, type ElectionConfig } from '../leadership/election-config.js';
import { SingleReplicaLeadership, type Leadership } from '../leadership/leadership.js';
import { ElectionConfigError } from '../leadership/errors.js';
import { RedisLink } from '../leadership/redis-link.js';
import { createLogger, type Logger } from '../log.js';
import { loadClusterAccess } from '../kube/load-cluster-access.js';
import type { ClusterAccess } from '../kube/cluster-access.js';
import { Manager } from '../manager.js';
import type { ApiAuth } from '../server/auth/access.js';
import { startHttpServer } from '../server/http-server.js';
import { intEnv } from './int-env.js';
import { replicaApi } from './replica-api.js';
import { createPool, storeConfigFromEnv } from '../store/connection.js';
import { startEmbeddedStore } from '../store/embedded-postgres.js';
import { ReadModels } from '../store/read-models.js';
import { parseWatchNamespaces } from '../watch-namespaces.js';
import { tracingConfig, type TracingConfig } from '../tracing/tracing-config.js';

const USAGE = `usage: flexcore controller [flags]

Leader election (flags win over the environment):
  --leader-elect=true|false             LEADER_ELECT: false runs one replica without election (true)
  --leader-election-namespace NS        LEADER_ELECTION_NAMESPACE: where the Leases live
                                        (POD_NAMESPACE, the service account's, the first WATCH_NAMESPACE,
                                        default)
  --leader-election-lease-duration D    LEADER_ELECTION_LEASE_DURATION (15s)
  --leader-election-renew-deadline D    LEADER_ELECTION_RENEW_DEADLINE (10s)
  --leader-election-retry-period D      LEADER_ELECTION_RETRY_PERIOD (2s)
  --buckets B                           FLEXCORE_BUCKETS: scopes shared among replicas (1)
  POD_NAME                              this replica's identity (hostname + random suffix)
  REDIS_URL                             redis:// or rediss://user:password@host:port: fast hand-off,
                                        membership, published holders (Leases alone when unset)

Status API (every replica, under /api/v1 on FLEXCORE_PORT):
  --api-auth kubernetes|none            FLEXCORE_API_AUTH: bearer tokens checked with TokenReview and
                                        SubjectAccessReview (kubernetes), or no checks at all (none:
                                        a controller on your own machine only)
  FLEXCORE_API_POOL_SIZE                PostgreSQL connections the API may use, apart from the engine's (5)
  FLEXCORE_STREAM_BUFFER_BYTES          unsent bytes a live-stream client may fall behind before it is
                                        cut off and resumes from its last id (1048576)
  FLEXCORE_STREAM_HEARTBEAT_MS          comment line on idle streams (15000)

Environment:
  KUBECONFIG            kubeconfig file (in-cluster service account when unset)
  DATABASE_URL          PostgreSQL URL (an embedded PostgreSQL in the state directory when unset)
  FLEXCORE_PORT         port of /healthz, /readyz, /metrics and the status API (8080)
  FLEXCORE_WORKERS      concurrent pipeline reconciles (8)
  FLEXCORE_KUBE_QPS     Kubernetes API requests per second (50), FLEXCORE_KUBE_BURST (100)
  WATCH_NAMESPACE       watch only these namespaces, comma-separated (team-a or team-a,team-b; all
                        when unset); several need list/watch only in each, not cluster-wide
  FLEXCORE_START_GRACE  how long a step container may wait on a bad image or config (ErrImagePull,
                        ImagePullBackOff, CreateContainerConfigError, ...) before the attempt fails (2m)
  LOG_LEVEL, LOG_FORMAT error|warn|info|debug, json|text

Traces (every finished run is a trace; off unless an endpoint is set):
  OTEL_EXPORTER_OTLP_ENDPOINT           OTLP/HTTP base URL (spans go to its /v1/traces), or
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT    the full traces URL
  OTEL_SERVICE_NAME                     service.name of the spans (flexcore)
  OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_SCHEDULE_DELAY, ... as the SDK reads
  them; OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none turn tracing off
`;

function apiAuthFrom(raw: string | undefined): ApiAuth['mode'] {
  const mode = raw === undefined || raw === '' ? 'kubernetes' : raw;
  if (mode !== 'kubernetes' && mode !== 'none') {
    throw new ElectionConfigError(`--api-auth (FLEXCORE_API_AUTH) must be kubernetes or none, got "${raw}"`);
  }
  return mode;
}

function leadershipFor(
  election: ElectionConfig,
  kc: ClusterAccess,
  pool: pg.Pool,
  registry: Registry,
  logger: Logger,
): Leadership {
  const readModels = new ReadModels(pool);
  const raiseFence = (scope: string, lockTimeoutMs?: number): Promise<number> =>
    readModels.raiseFence(scope, lockTimeoutMs);
  if (!election.leaderElect)
    return new SingleReplicaLeadership(election.buckets, raiseFence, election.identity);
  return new ElectedLeadership({
    ...election,
    kubeConfig: kc,
    // Its own client: renewals never queue behind the engine's rate limit, and a hung request
    // gives up well within the renew deadline.
    kube: new KubeClient(kc, { qps: 0, timeoutMs: election.timings.renewDeadlineMs / 2 }),
    raiseFence,
    redis: election.redisUrl
      ? new RedisLink({ url: election.redisUrl, prefix: election.namespace, logger, registry })
      : undefined,
    clock: monotonicClock,
    logger,
    registry,
  });
}

/** The settings checked before anything starts. */
interface ControllerConfig {
  readonly election: ElectionConfig;
  readonly startGraceMs: number;
  readonly apiAuthMode: ApiAuth['mode'];
  /** WATCH_NAMESPACE as a list; empty: all namespaces. */
  readonly namespaces: string[];
  readonly tracing: TracingConfig | undefined;
}

const CONFIG_ERRORS = ['ElectionConfigError', 'DurationError', 'WatchNamespaceError', 'TracingConfigError'];

/** The settings, or the exit code 2 after one clear line on stderr naming the bad value. */
function controllerConfig(args: string[]): ControllerConfig | 2 {
  try {
    const env = { ...process.env, ...flagsAsEnv(args, { 'api-auth': 'FLEXCORE_API_AUTH' }) };
    return {
      namespaces: parseWatchNamespaces(env.WATCH_NAMESPACE),
      election: electionConfig(env),
      startGraceMs: parseDuration(process.env.FLEXCORE_START_GRACE || '2m', 'FLEXCORE_START_GRACE'),
      apiAuthMode: apiAuthFrom(env.FLEXCORE_API_AUTH),
      tracing: tracingConfig(env),
    };
  } catch (err) {
    if (!CONFIG_ERRORS.includes((err as Error).name)) throw err;
    process.stderr.write(`flexcore controller: ${(err as Error).message}\n`);
    return 2;
  }
}

export async function runController(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const checked = controllerConfig(args);
  if (checked === 2) return 2;
  const { election, startGraceMs, apiAuthMode, namespaces, tracing } = checked;
  const logger = createLogger().child({ replica: election.identity });
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
    const kc = await loadClusterAccess(process.env);
    const registry = new Registry();
    const manager = await Manager.start({
      kubeConfig: kc,
      pool,
      logger,
      registry,
      leadership: leadershipFor(election, kc, pool, registry, logger),
      workers: intEnv(process.env, 'FLEXCORE_WORKERS', 8),
      qps: intEnv(process.env, 'FLEXCORE_KUBE_QPS', 50),
      burst: intEnv(process.env, 'FLEXCORE_KUBE_BURST', 100),
      namespaces,
      failpoints: Failpoints.fromEnv(process.env.FLEXCORE_FAILPOINTS),
      startGraceMs,
      tracing,
    });
    cleanups.unshift(() => manager.stop());
    const api = replicaApi({
      manager,
      storeConfig: { ...config, url },
      mode: apiAuthMode,
      kc,
      registry,
      logger,
      env: process.env,
    });
    cleanups.unshift(() => api.stop());
    const server = await startHttpServer({
      readiness: manager,
      registry: manager.registry,
      port: intEnv(process.env, 'FLEXCORE_PORT', 8080),
      api: api.router,
    });
    cleanups.unshift(() => server.close());
    logger.info('serving /healthz, /readyz and /metrics', { port: server.port });
    logger.info('serving the status API', { path: '/api/v1', auth: apiAuthMode, port: server.port });
    await stopped;
    logger.info('stopping');
    return 0;
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
  }
}
