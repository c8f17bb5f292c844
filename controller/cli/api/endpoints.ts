/** The status API endpoints the commands use, as typed calls (answers checked by the server's own schemas). */
import type { z } from 'zod';
import {
  CancelRequested,
  RunDetail,
  RunList,
  RunRequested,
  SingerStateChanged,
  SingerStateList,
} from '../../server/schemas.js';
import { pathOf, type ApiClient, type JsonReply } from './api-client.js';

export type RunListBody = z.output<typeof RunList>;
export type RunItem = RunListBody['items'][number];
export type RunDetailBody = z.output<typeof RunDetail>;
export type RunRequestedBody = z.output<typeof RunRequested>;
export type CancelRequestedBody = z.output<typeof CancelRequested>;
export type SingerStateListBody = z.output<typeof SingerStateList>;
export type SingerStateEntryBody = SingerStateListBody['items'][number];
export type SingerStateChangedBody = z.output<typeof SingerStateChanged>;

/** Which runs: every namespace (no namespace), one namespace, or one pipeline of it. */
export interface RunListRequest {
  readonly namespace?: string;
  readonly pipeline?: string;
  readonly phase?: string;
  readonly limit: number;
  readonly pageToken?: string;
}

export function runListPath(r: Pick<RunListRequest, 'namespace' | 'pipeline'>): string {
  if (r.namespace === undefined) return '/runs';
  if (r.pipeline === undefined) return `${pathOf('namespaces', r.namespace)}/runs`;
  return `${pathOf('namespaces', r.namespace, 'pipelines', r.pipeline)}/runs`;
}

export function listRuns(client: ApiClient, r: RunListRequest): Promise<RunListBody> {
  return client.get(RunList, runListPath(r), { phase: r.phase, limit: r.limit, pageToken: r.pageToken });
}

/** A run by id within a namespace, whichever pipeline it belongs to. */
export function getRun(client: ApiClient, namespace: string, runId: string): Promise<RunDetailBody> {
  return client.get(RunDetail, pathOf('namespaces', namespace, 'runs', runId));
}

/** The stored log tail of one attempt (every container, or `container`). */
export function attemptLog(
  client: ApiClient,
  run: Pick<RunDetailBody, 'namespace' | 'pipeline' | 'runId'>,
  step: string,
  attempt: number,
  container?: string,
): Promise<string> {
  const path = pathOf(
    'namespaces',
    run.namespace,
    'pipelines',
    run.pipeline,
    'runs',
    run.runId,
    'steps',
    step,
    'attempts',
    String(attempt),
    'log',
  );
  return client.text(path, { container });
}

/** POST a manual run: 201 when the controller started it within the server's wait, else 202. */
export function requestRun(
  client: ApiClient,
  namespace: string,
  pipeline: string,
  fullRefresh?: readonly string[],
): Promise<JsonReply<RunRequestedBody>> {
  return client.json(RunRequested, 'POST', `${pathOf('namespaces', namespace, 'pipelines', pipeline)}/runs`, {
    ...(fullRefresh && { body: { fullRefresh } }),
  });
}

export async function cancelRun(
  client: ApiClient,
  namespace: string,
  pipeline: string,
  runId: string,
): Promise<CancelRequestedBody> {
  const path = `${pathOf('namespaces', namespace, 'pipelines', pipeline, 'runs', runId)}/cancel`;
  return (await client.json(CancelRequested, 'POST', path)).body;
}

/** The live stream (server-sent events). */
export const STREAM_PATH = '/stream';

export function singerStates(
  client: ApiClient,
  namespace: string,
  pipeline: string,
): Promise<SingerStateListBody> {
  return client.get(
    SingerStateList,
    `${pathOf('namespaces', namespace, 'pipelines', pipeline)}/singer-state`,
  );
}

/** PUT `state` as the step's Singer state, or DELETE it (`state` undefined). */
export async function changeSingerState(
  client: ApiClient,
  namespace: string,
  pipeline: string,
  step: string,
  state: Record<string, unknown> | undefined,
): Promise<SingerStateChangedBody> {
  const path = pathOf('namespaces', namespace, 'pipelines', pipeline, 'singer-state', step);
  const method = state === undefined ? 'DELETE' : 'PUT';
  return (await client.json(SingerStateChanged, method, path, state && { body: { state } })).body;
}
