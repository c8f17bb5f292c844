/**
 * The status API of one replica, wired: its own PostgreSQL pool (API load never starves the
 * engine), the feed hub of its live streams, the chosen authorization, commands that annotate
 * pipelines as the controller's identity, and metrics. Used by `flexcore controller` and the
 * main job (hack/up.ts).
 */
import type { ClusterAccess } from '../kube/cluster-access.js';
import type express from 'express';
import type { Registry } from 'prom-client';
import { KubeClient } from '../apply/kube-client.js';
import type { Logger } from '../log.js';
import type { Manager } from '../manager.js';
import { DEFAULT_STREAM_SETTINGS, type PipelineCommands } from '../server/api-context.js';
import { apiMetrics } from '../server/api-metrics.js';
import type { ApiAuth } from '../server/auth/access.js';
import { KubernetesAuth } from '../server/auth/kubernetes-auth.js';
import { noAuth } from '../server/auth/no-auth.js';
import { statusApi } from '../server/status-api.js';
import { FeedHub } from '../server/stream/feed-hub.js';
import { ApiQueries } from '../store/api-queries.js';
import { createPool, type StoreConfig } from '../store/connection.js';
import { intEnv } from './int-env.js';
import { EventStore } from '../store/event-store.js';
import { firstWatchNamespace } from '../watch-namespaces.js';

/** External events are not a leader's writes: a fence of their own that nothing raises. */
const EXTERNAL_FENCING = { fence: 'external-events', token: 1 };

export interface ReplicaApiOptions {
  readonly manager: Manager;
  readonly storeConfig: StoreConfig & { url: string };
  readonly mode: ApiAuth['mode'];
  readonly kc: ClusterAccess;
  readonly registry: Registry;
  readonly logger: Logger;
  /**
   * FLEXCORE_API_POOL_SIZE, FLEXCORE_STREAM_BUFFER_BYTES, FLEXCORE_STREAM_HEARTBEAT_MS,
   * FLEXCORE_API_VALIDATE_RESPONSES; FLEXCORE_API_DEFAULT_NAMESPACE, else the first WATCH_NAMESPACE.
   */
  readonly env: NodeJS.ProcessEnv;
}

export interface ReplicaApi {
  readonly router: express.Router;
  stop(): Promise<void>;
}

/** Commands write as the controller's own identity, after the caller was authorized. */
function pipelineCommands(kube: KubeClient): PipelineCommands {
  const collection = (ns: string): string => `/apis/flexcore.io/v1alpha1/namespaces/${ns}/flexpipelines`;
  return {
    annotate: async (namespace, name, annotations) => {
      await kube.patch(`${collection(namespace)}/${name}`, { metadata: { annotations } });
    },
    createPipeline: async (namespace, manifest) =>
      (await kube.create<{ metadata: { name: string } }>(collection(namespace), manifest)).metadata.name,
  };
}

export function replicaApi(o: ReplicaApiOptions): ReplicaApi {
  const { manager, logger, env } = o;
  const log = logger.child({ component: 'api' });
  const pool = createPool(
    { ...o.storeConfig, poolSize: intEnv(env, 'FLEXCORE_API_POOL_SIZE', 5, 1) },
    (err) => log.warn('status API database connection lost', { error: err.message }),
    { statementTimeoutMs: 10_000, applicationName: 'flexcore-api' },
  );
  const queries = new ApiQueries(pool);
  const store = new EventStore(pool);
  const metrics = apiMetrics(o.registry);
  const hub = new FeedHub(queries, { listenUrl: o.storeConfig.url, logger: log, delay: metrics.feedDelay });
  hub.start();
  const kube = new KubeClient(o.kc, { qps: 100, burst: 200, timeoutMs: 10_000 });
  const auth: ApiAuth =
    o.mode === 'none'
      ? noAuth
      : new KubernetesAuth(kube, {
          onDecision: (kind, cached, result) =>
            metrics.authDecisions.inc({ kind, cached: String(cached), result }),
        });
  if (auth.mode === 'none') {
    logger.warn(
      'status API authorization is OFF (--api-auth=none): anyone who reaches the port can read every pipeline and run commands; use it only on your own machine',
    );
  }
  const router = statusApi({
    context: {
      pipelines: manager.pipelines,
      plugins: manager.plugins,
      queries,
      status: () => ({ ...manager.controllerStatus(), apiAuth: auth.mode }),
      hub,
      stream: {
        maxBufferedBytes: intEnv(
          env,
          'FLEXCORE_STREAM_BUFFER_BYTES',
          DEFAULT_STREAM_SETTINGS.maxBufferedBytes,
          4096,
        ),
        heartbeatMs: intEnv(env, 'FLEXCORE_STREAM_HEARTBEAT_MS', DEFAULT_STREAM_SETTINGS.heartbeatMs, 100),
        recheckMs: DEFAULT_STREAM_SETTINGS.recheckMs,
        onOpen: () => metrics.streamClients.inc(),
        onEnd: (reason) => {
          metrics.streamClients.dec();
          metrics.streamsEnded.inc({ reason });
        },
      },
      events: {
        append: async (stream, event) => {
          const r = await store.append(stream, 'any', [event], EXTERNAL_FENCING);
          return { position: r.positions[0]!, duplicate: r.duplicate };
        },
      },
      commands: pipelineCommands(kube),
    },
    auth,
    logger: log,
    metrics,
    validateResponses: env.FLEXCORE_API_VALIDATE_RESPONSES === 'true',
    defaultNamespace: env.FLEXCORE_API_DEFAULT_NAMESPACE || firstWatchNamespace(env) || 'default',
  });
  return {
    router,
    stop: async () => {
      await hub.stop();
      await pool.end();
    },
  };
}
