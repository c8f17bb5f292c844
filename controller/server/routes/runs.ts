/** Run lists in keyset pages (never OFFSET, never count) and single runs with their steps and attempts. */
import type { ApiContext } from '../api-context.js';
import { route, type Route } from '../route.js';
import {
  NamespaceParams,
  NamespacedRunParams,
  PipelineParams,
  RunDetail,
  RunList,
  RunListQuery,
  RunParams,
} from '../schemas.js';
import { detailOf, findRun, listRuns } from './run-reads.js';

const LIST =
  'Newest first by default. Pages are keyset pages: pass nextPageToken as pageToken, with the same filters, to get the next; runs started meanwhile never shift a page.';
const NOT_FOUND = { description: 'No such run' };

function listAllRuns(ctx: ApiContext): Route {
  return route({
    method: 'get',
    path: '/runs',
    operationId: 'listAllRuns',
    summary: 'Runs of every namespace',
    description: LIST,
    tags: ['runs'],
    query: RunListQuery,
    responses: { 200: { description: 'A page of runs', schema: RunList } },
    access: () => [{ verb: 'list', resource: 'flexpipelines' }],
    handle: async ({ query }) => ({ json: await listRuns(ctx, {}, query) }),
  });
}

function listNamespaceRuns(ctx: ApiContext): Route {
  return route({
    method: 'get',
    path: '/namespaces/{namespace}/runs',
    operationId: 'listNamespaceRuns',
    summary: 'Runs of the pipelines of a namespace',
    description: LIST,
    tags: ['runs'],
    params: NamespaceParams,
    query: RunListQuery,
    responses: { 200: { description: 'A page of runs', schema: RunList } },
    access: ({ params }) => [{ verb: 'list', resource: 'flexpipelines', namespace: params.namespace }],
    handle: async ({ params, query }) => ({
      json: await listRuns(ctx, { namespace: params.namespace }, query),
    }),
  });
}

function listPipelineRuns(ctx: ApiContext): Route {
  return route({
    method: 'get',
    path: '/namespaces/{namespace}/pipelines/{name}/runs',
    operationId: 'listPipelineRuns',
    summary: 'Runs of one pipeline (also after it was deleted)',
    description: LIST,
    tags: ['runs'],
    params: PipelineParams,
    query: RunListQuery,
    responses: { 200: { description: 'A page of runs', schema: RunList } },
    access: ({ params }) => [{ verb: 'list', resource: 'flexpipelines', namespace: params.namespace }],
    handle: async ({ params, query }) => ({
      json: await listRuns(ctx, { namespace: params.namespace, pipeline: params.name }, query),
    }),
  });
}

function getRun(ctx: ApiContext): Route {
  return route({
    method: 'get',
    path: '/namespaces/{namespace}/pipelines/{name}/runs/{runId}',
    operationId: 'getRun',
    summary: 'One run with every step and attempt',
    tags: ['runs'],
    params: RunParams,
    responses: { 200: { description: 'The run', schema: RunDetail }, 404: NOT_FOUND },
    access: ({ params }) => [
      { verb: 'get', resource: 'flexpipelines', namespace: params.namespace, name: params.name },
    ],
    handle: async ({ params }) => ({
      json: await detailOf(
        ctx,
        await findRun(ctx, params.runId, { namespace: params.namespace, pipeline: params.name }),
      ),
    }),
  });
}

function getNamespaceRun(ctx: ApiContext): Route {
  return route({
    method: 'get',
    path: '/namespaces/{namespace}/runs/{runId}',
    operationId: 'getNamespaceRun',
    summary: 'One run by id, whichever pipeline of the namespace it belongs to',
    tags: ['runs'],
    params: NamespacedRunParams,
    responses: { 200: { description: 'The run', schema: RunDetail }, 404: NOT_FOUND },
    access: ({ params }) => [{ verb: 'get', resource: 'flexpipelines', namespace: params.namespace }],
    handle: async ({ params }) => ({
      json: await detailOf(ctx, await findRun(ctx, params.runId, { namespace: params.namespace })),
    }),
  });
}

export function runRoutes(ctx: ApiContext): Route[] {
  return [listAllRuns(ctx), listNamespaceRuns(ctx), listPipelineRuns(ctx), getRun(ctx), getNamespaceRun(ctx)];
}
