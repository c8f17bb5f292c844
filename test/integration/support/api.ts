/**
 * Calling the status API of a controller process as a real Kubernetes user: ServiceAccounts
 * with Roles bound by real RBAC, their tokens from the TokenRequest API, and runs seeded into
 * the event store through the same append path the engine uses.
 */
import { stringify } from 'yaml';
import { deterministicEventId, type EventStore } from '../../../controller/store/event-store.js';
import type { ControlPlane } from '../../../hack/plane/control-plane.js';
import { fake, pipeline, plugin } from './manifests.js';

export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
  readonly text: string;
}

export interface ApiClient {
  get<T = Record<string, unknown>>(path: string, token?: string): Promise<ApiResponse<T>>;
  request<T = Record<string, unknown>>(
    method: string,
    path: string,
    init?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<ApiResponse<T>>;
}

export function apiClient(port: () => Promise<number>, defaultToken?: string): ApiClient {
  const request = async <T>(
    method: string,
    path: string,
    init: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse<T>> => {
    const token = init.token ?? defaultToken;
    const res = await fetch(`http://127.0.0.1:${await port()}${path}`, {
      method,
      headers: {
        ...(token && { Authorization: `Bearer ${token}` }),
        ...(init.body !== undefined && { 'Content-Type': 'application/json' }),
        ...init.headers,
      },
      ...(init.body !== undefined && {
        body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
      }),
    });
    const text = await res.text();
    let body: unknown = text;
    if (/json/.test(res.headers.get('content-type') ?? '')) body = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: body as T, text };
  };
  return {
    request,
    get: (path, token) => request('GET', path, { token }),
  };
}

export interface RbacRule {
  readonly resources: string[];
  readonly verbs: string[];
}

/**
 * A ServiceAccount in `namespace` allowed `rules` on flexcore.io resources — in `namespace` only
 * (a Role), or everywhere (`clusterWide`: a ClusterRole) — and a token for it.
 */
export async function serviceAccountToken(
  plane: ControlPlane,
  namespace: string,
  name: string,
  rules: RbacRule[],
  clusterWide = false,
): Promise<string> {
  const kind = clusterWide ? 'ClusterRole' : 'Role';
  const roleName = clusterWide ? `${namespace}-${name}` : name;
  const meta = clusterWide ? { name: roleName } : { name: roleName, namespace };
  const docs = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind,
      metadata: meta,
      rules: rules.map((r) => ({ apiGroups: ['flexcore.io'], resources: r.resources, verbs: r.verbs })),
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: `${kind}Binding`,
      metadata: meta,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: roleName },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  ];
  await plane.kubectl(['apply', '-f', '-'], docs.map((d) => stringify(d)).join('---\n'));
  return (await plane.kubectl(['create', 'token', name, '-n', namespace, '--duration', '1h'])).trim();
}

export interface SeedRun {
  readonly runId: string;
  readonly namespace: string;
  readonly pipeline: string;
  readonly trigger: 'Generation' | 'Manual' | 'Schedule';
  readonly startedAt: Date;
  /** Unset: still running. */
  readonly finished?: { phase: 'Succeeded' | 'Failed' | 'Cancelled'; at: Date };
}

/** Appends RunStarted (and RunFinished) for each run, under a fence of its own. */
export async function seedRuns(store: EventStore, runs: readonly SeedRun[], concurrency = 8): Promise<void> {
  const fencing = { fence: 'api-test-seed', token: 1 };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < runs.length) {
      const r = runs[next++]!;
      const events = [
        {
          id: deterministicEventId(r.runId, 'started'),
          type: 'RunStarted',
          data: {
            runId: r.runId,
            at: r.startedAt.toISOString(),
            pipeline: { namespace: r.namespace, name: r.pipeline },
            trigger: r.trigger,
          },
        },
        ...(r.finished
          ? [
              {
                id: deterministicEventId(r.runId, 'finished'),
                type: 'RunFinished',
                data: { runId: r.runId, at: r.finished.at.toISOString(), phase: r.finished.phase },
              },
            ]
          : []),
      ];
      await store.append(`seed-${r.runId}`, 'no_stream', events, fencing);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export interface SseEvent {
  readonly id: string;
  readonly event: string;
  readonly data: string;
}

export interface SseConnection {
  readonly status: Promise<number>;
  readonly events: SseEvent[];
  /** Comment lines received (heartbeats). */
  comments: number;
  /** The last id the server set (by an event or an id-only heartbeat): what a browser would resume from. */
  lastEventId: string;
  readonly ended: Promise<void>;
  close(): void;
}

/** A server-sent-events client that parses what it reads (id, event, data, comments). */
export function openStream(
  port: number,
  path: string,
  token: string | undefined,
  lastEventId?: string,
): SseConnection {
  const controller = new AbortController();
  const events: SseEvent[] = [];
  let resolveStatus: (n: number) => void = () => undefined;
  const conn: SseConnection = {
    status: new Promise<number>((r) => (resolveStatus = r)),
    events,
    comments: 0,
    lastEventId: lastEventId ?? '',
    ended: Promise.resolve(),
    close: () => controller.abort(),
  };
  const run = async (): Promise<void> => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      headers: {
        ...(token && { Authorization: `Bearer ${token}` }),
        ...(lastEventId !== undefined && { 'Last-Event-ID': lastEventId }),
      },
      signal: controller.signal,
    });
    resolveStatus(res.status);
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    let block: { id?: string; event?: string; data: string[] } = { data: [] };
    for await (const chunk of res.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line === '') {
          if (block.id !== undefined) conn.lastEventId = block.id;
          if (block.data.length > 0)
            events.push({ id: block.id ?? '', event: block.event ?? 'message', data: block.data.join('\n') });
          block = { data: [] };
        } else if (line.startsWith(':')) conn.comments++;
        else {
          const i = line.indexOf(':');
          const field = i < 0 ? line : line.slice(0, i);
          const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
          if (field === 'id') block.id = value;
          else if (field === 'event') block.event = value;
          else if (field === 'data') block.data.push(value);
        }
      }
    }
  };
  (conn as { ended: Promise<void> }).ended = run().catch(() => undefined);
  return conn;
}

/** Appends `count` events of a type nothing projects to stream `stream`, `bytes` of payload each. */
export async function appendNoise(
  store: EventStore,
  stream: string,
  count: number,
  bytes = 100,
): Promise<void> {
  const fencing = { fence: 'api-test-seed', token: 1 };
  const pad = 'x'.repeat(bytes);
  for (let i = 0; i < count; i += 500) {
    const n = Math.min(500, count - i);
    const events = Array.from({ length: n }, (_, k) => ({
      id: deterministicEventId(stream, i + k),
      type: 'TestNoise',
      data: { n: i + k, pad },
    }));
    await store.append(stream, 'any', events, fencing);
  }
}

/**
 * The environment of one controller process serving the API for `namespace` with the shared
 * plane and `databaseUrl`: no election, and every JSON answer checked against its schema
 * (FLEXCORE_API_VALIDATE_RESPONSES: a mismatch is a 500 the test sees).
 */
export function apiReplicaEnv(
  plane: ControlPlane,
  databaseUrl: string,
  namespace: string,
): NodeJS.ProcessEnv {
  return {
    KUBECONFIG: plane.kubeconfigPath,
    DATABASE_URL: databaseUrl,
    WATCH_NAMESPACE: namespace,
    LEADER_ELECT: 'false',
    FLEXCORE_API_VALIDATE_RESPONSES: 'true',
  };
}

/**
 * The kwok pipeline `real` (plugin `work`; extract, then load) in `namespace`, with the log
 * text each step's Pod will show, so its first run stores log tails.
 */
export async function applyLoggedPipeline(plane: ControlPlane, namespace: string): Promise<void> {
  const docs = [
    plugin('work'),
    pipeline('real', {
      steps: [
        { name: 'extract', plugin: 'work', podMetadata: fake(0) },
        { name: 'load', plugin: 'work', dependsOn: ['extract'], podMetadata: fake(0) },
      ],
    }),
  ];
  await plane.kubectl(['apply', '-n', namespace, '-f', '-'], docs.map((d) => stringify(d)).join('---\n'));
  await plane.setPodLogs(namespace, 'real-g1-extract-1', 'plugin', 'extracted 3 rows\n');
  await plane.setPodLogs(namespace, 'real-g1-load-1', 'plugin', 'loaded 3 rows\n');
}
