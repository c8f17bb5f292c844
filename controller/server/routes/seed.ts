/**
 * The endpoints of the Go FlexCore that users migrate from, as a compatibility surface over the
 * same handlers: each one re-enters a native route (its validation, its authorization, its
 * answer). `{id}` is a name in the default namespace or `namespace/name` (URL-encoded
 * `namespace%2Fname`). Commands and queries are `{ "type": ..., "payload": ... }` envelopes.
 */
import type { Request, Response } from 'express';
import { badRequest } from '../problem.js';
import { route, type Reply, type Route } from '../route.js';
import { Envelope, ExecuteBody, ExternalEventBody, FeedQuery, ObjectListQuery, SeedId } from '../schemas.js';
import { z } from 'zod';

/** Runs a native route by operation id; `payload` names bad fields as payload.<field>. */
export type Invoke = (
  operationId: string,
  input: { params?: Record<string, unknown>; query?: Record<string, unknown>; body?: unknown },
  req: Request,
  res: Response,
  payload?: boolean,
) => Promise<Reply>;

const IdParams = z.strictObject({ id: SeedId });
const TAGS = ['seed compatibility'];
const ANY = { description: "The native endpoint's answer" };
/** The native endpoint authorizes and answers its own errors. */
const DELEGATED = {
  401: { description: 'No bearer token, or one the Kubernetes API does not accept' },
  403: { description: 'Kubernetes RBAC does not allow the native endpoint' },
  404: { description: 'No such object' },
  409: { description: 'A command on a finished run' },
};

function split(id: string, defaultNamespace: string): { namespace: string; name: string } {
  const i = id.indexOf('/');
  return i < 0
    ? { namespace: defaultNamespace, name: id }
    : { namespace: id.slice(0, i), name: id.slice(i + 1) };
}

type Payload = Record<string, unknown>;
type Target = { operationId: string; params?: Payload; query?: Payload; body?: unknown };

/** payload without the keys that went into the path. */
function rest(p: Payload, ...keys: string[]): Payload {
  return Object.fromEntries(Object.entries(p).filter(([k]) => !keys.includes(k)));
}

/** The native call of each command type. */
function commandTarget(type: string, p: Payload, ns: string): Target | undefined {
  const namespace = (p.namespace as string | undefined) ?? ns;
  switch (type) {
    case 'RunPipeline':
      return {
        operationId: 'requestRun',
        params: { namespace, name: p.pipeline },
        body: rest(p, 'namespace', 'pipeline'),
      };
    case 'CancelRun':
      return { operationId: 'cancelRun', params: { namespace, name: p.pipeline, runId: p.runId }, body: {} };
    case 'ExecutePlugin':
      return {
        operationId: 'executePlugin',
        params: { namespace, name: p.plugin },
        body: rest(p, 'namespace', 'plugin'),
      };
    default:
      return undefined;
  }
}

/** The native call of each query type. */
function queryTarget(type: string, p: Payload, ns: string): Target | undefined {
  const namespace = (p.namespace as string | undefined) ?? ns;
  switch (type) {
    case 'GetStatus':
      return { operationId: 'getStatus' };
    case 'ListPipelines':
      return { operationId: 'listPipelines', params: { namespace }, query: rest(p, 'namespace') };
    case 'GetPipeline':
      return { operationId: 'getPipeline', params: { namespace, name: p.pipeline } };
    case 'ListPlugins':
      return { operationId: 'listPlugins', params: { namespace }, query: rest(p, 'namespace') };
    case 'GetPlugin':
      return { operationId: 'getPlugin', params: { namespace, name: p.plugin } };
    case 'ListRuns':
      return p.pipeline === undefined
        ? { operationId: 'listNamespaceRuns', params: { namespace }, query: rest(p, 'namespace') }
        : {
            operationId: 'listPipelineRuns',
            params: { namespace, name: p.pipeline },
            query: rest(p, 'namespace', 'pipeline'),
          };
    case 'GetRun':
      return { operationId: 'getNamespaceRun', params: { namespace, runId: p.runId } };
    case 'ListEvents':
      return { operationId: 'listEvents', query: p };
    case 'GetSummary':
      return { operationId: 'getNamespaceSummary', params: { namespace }, query: rest(p, 'namespace') };
    default:
      return undefined;
  }
}

const COMMAND_TYPES = ['RunPipeline', 'CancelRun', 'ExecutePlugin'];
const QUERY_TYPES = [
  'GetStatus',
  'ListPipelines',
  'GetPipeline',
  'ListPlugins',
  'GetPlugin',
  'ListRuns',
  'GetRun',
  'ListEvents',
  'GetSummary',
];

function envelopeRoute(kind: 'commands' | 'queries', invoke: Invoke, defaultNamespace: string): Route {
  const types = kind === 'commands' ? COMMAND_TYPES : QUERY_TYPES;
  const target = kind === 'commands' ? commandTarget : queryTarget;
  return route({
    method: 'post',
    path: `/flexcore/${kind}`,
    operationId: kind === 'commands' ? 'seedCommand' : 'seedQuery',
    summary: `Seed API: ${kind} as { type, payload } envelopes`,
    description: `Types: ${types.join(', ')}. The payload carries the native endpoint's path and query parameters (namespace defaults to "${defaultNamespace}"; pipeline, plugin, runId name the object) and its body fields; the answer is the native endpoint's.`,
    tags: TAGS,
    body: Envelope.extend({ type: z.enum(types as [string, ...string[]]) }),
    responses: { 200: ANY, 201: ANY, 202: ANY, ...DELEGATED },
    handle: async ({ body, req, res }) => {
      const t = target(body.type, body.payload, defaultNamespace);
      if (!t) throw badRequest([{ in: 'body', name: 'type', reason: `must be one of ${types.join(', ')}` }]);
      return invoke(
        t.operationId,
        { params: t.params ?? {}, query: t.query ?? {}, body: t.body ?? {} },
        req,
        res,
        true,
      );
    },
  });
}

export function seedRoutes(invoke: Invoke, defaultNamespace: string): Route[] {
  return [
    route({
      method: 'get',
      path: '/flexcore/status',
      operationId: 'seedStatus',
      summary: "Seed API: the controller's status",
      tags: TAGS,
      responses: { 200: ANY, ...DELEGATED },
      handle: ({ req, res }) => invoke('getStatus', {}, req, res),
    }),
    route({
      method: 'get',
      path: '/flexcore/plugins',
      operationId: 'seedListPlugins',
      summary: 'Seed API: the plugins of a namespace',
      tags: TAGS,
      query: ObjectListQuery.extend({ namespace: z.string().max(63).optional() }),
      responses: { 200: ANY, ...DELEGATED },
      handle: ({ query, req, res }) => {
        const { namespace, ...q } = query;
        return invoke(
          'listPlugins',
          { params: { namespace: namespace ?? defaultNamespace }, query: q },
          req,
          res,
        );
      },
    }),
    route({
      method: 'get',
      path: '/flexcore/plugins/{id}/status',
      operationId: 'seedPluginStatus',
      summary: "Seed API: a plugin's status",
      tags: TAGS,
      params: IdParams,
      responses: { 200: ANY, ...DELEGATED },
      handle: ({ params, req, res }) =>
        invoke('getPlugin', { params: split(params.id, defaultNamespace) }, req, res),
    }),
    route({
      method: 'post',
      path: '/flexcore/plugins/{id}/execute',
      operationId: 'seedExecutePlugin',
      summary: 'Seed API: run a plugin ad hoc',
      tags: TAGS,
      params: IdParams,
      body: ExecuteBody,
      responses: { 201: ANY, ...DELEGATED },
      handle: ({ params, body, req, res }) =>
        invoke('executePlugin', { params: split(params.id, defaultNamespace), body }, req, res),
    }),
    route({
      method: 'get',
      path: '/flexcore/events',
      operationId: 'seedListEvents',
      summary: 'Seed API: the event feed',
      tags: TAGS,
      query: FeedQuery,
      responses: { 200: ANY, ...DELEGATED },
      handle: ({ query, req, res }) => invoke('listEvents', { query }, req, res),
    }),
    route({
      method: 'post',
      path: '/flexcore/events',
      operationId: 'seedAppendEvent',
      summary: 'Seed API: record an external event',
      tags: TAGS,
      body: ExternalEventBody,
      responses: { 201: ANY, ...DELEGATED },
      handle: ({ body, req, res }) => invoke('appendExternalEvent', { body }, req, res),
    }),
    envelopeRoute('commands', invoke, defaultNamespace),
    envelopeRoute('queries', invoke, defaultNamespace),
  ];
}
