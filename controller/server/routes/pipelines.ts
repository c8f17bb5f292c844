/** FlexPipelines from the informer cache: keyset pages of summaries, and one pipeline. */
import type { z } from 'zod';
import type { ApiContext } from '../api-context.js';
import { route, type Route } from '../route.js';
import { pipelineOf } from './lookups.js';
import {
  NamespaceParams,
  ObjectListQuery,
  PipelineList,
  PipelineParams,
  PipelineSummary,
} from '../schemas.js';
import { pipelineSummary } from '../views/pipeline-view.js';
import { pageOf } from './list-page.js';

type ListQuery = z.output<typeof ObjectListQuery>;

function list(ctx: ApiContext, query: ListQuery, namespace?: string): z.infer<typeof PipelineList> {
  const page = pageOf(ctx.pipelines.list(), query, namespace);
  return {
    items: page.items.map(pipelineSummary),
    ...(page.nextPageToken && { nextPageToken: page.nextPageToken }),
  };
}

export function pipelineRoutes(ctx: ApiContext): Route[] {
  return [
    route({
      method: 'get',
      path: '/pipelines',
      operationId: 'listAllPipelines',
      summary: 'Pipelines of every namespace',
      tags: ['pipelines'],
      query: ObjectListQuery,
      responses: { 200: { description: 'A page of pipelines', schema: PipelineList } },
      access: () => [{ verb: 'list', resource: 'flexpipelines' }],
      handle: ({ query }) => Promise.resolve({ json: list(ctx, query) }),
    }),
    route({
      method: 'get',
      path: '/namespaces/{namespace}/pipelines',
      operationId: 'listPipelines',
      summary: 'Pipelines of a namespace',
      tags: ['pipelines'],
      params: NamespaceParams,
      query: ObjectListQuery,
      responses: { 200: { description: 'A page of pipelines', schema: PipelineList } },
      access: ({ params }) => [{ verb: 'list', resource: 'flexpipelines', namespace: params.namespace }],
      handle: ({ params, query }) => Promise.resolve({ json: list(ctx, query, params.namespace) }),
    }),
    route({
      method: 'get',
      path: '/namespaces/{namespace}/pipelines/{name}',
      operationId: 'getPipeline',
      summary: 'One pipeline: spec summary, schedule, current and last run',
      tags: ['pipelines'],
      params: PipelineParams,
      responses: {
        200: { description: 'The pipeline', schema: PipelineSummary },
        404: { description: 'No such pipeline' },
      },
      access: ({ params }) => [
        { verb: 'get', resource: 'flexpipelines', namespace: params.namespace, name: params.name },
      ],
      handle: ({ params }) => {
        const p = pipelineOf(ctx, params.namespace, params.name);
        return Promise.resolve({ json: pipelineSummary(p) });
      },
    }),
  ];
}
