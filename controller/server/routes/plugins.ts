/** FlexPlugins from the informer cache, each with the pipelines of its namespace that run it. */
import type { z } from 'zod';
import type { ApiContext } from '../api-context.js';
import { route, type Route } from '../route.js';
import { pluginOf } from './lookups.js';
import { NamespaceParams, ObjectListQuery, ObjectParams, PluginList, PluginSummary } from '../schemas.js';
import { pluginSummary } from '../views/pipeline-view.js';
import { pageOf } from './list-page.js';

type ListQuery = z.output<typeof ObjectListQuery>;

function list(ctx: ApiContext, query: ListQuery, namespace?: string): z.infer<typeof PluginList> {
  const page = pageOf(ctx.plugins.list(), query, namespace);
  const pipelines = ctx.pipelines.list();
  return {
    items: page.items.map((p) => pluginSummary(p, pipelines)),
    ...(page.nextPageToken && { nextPageToken: page.nextPageToken }),
  };
}

export function pluginRoutes(ctx: ApiContext): Route[] {
  return [
    route({
      method: 'get',
      path: '/plugins',
      operationId: 'listAllPlugins',
      summary: 'Plugins of every namespace',
      tags: ['plugins'],
      query: ObjectListQuery,
      responses: { 200: { description: 'A page of plugins', schema: PluginList } },
      access: () => [{ verb: 'list', resource: 'flexplugins' }],
      handle: ({ query }) => Promise.resolve({ json: list(ctx, query) }),
    }),
    route({
      method: 'get',
      path: '/namespaces/{namespace}/plugins',
      operationId: 'listPlugins',
      summary: 'Plugins of a namespace, with the pipelines that use each',
      tags: ['plugins'],
      params: NamespaceParams,
      query: ObjectListQuery,
      responses: { 200: { description: 'A page of plugins', schema: PluginList } },
      access: ({ params }) => [{ verb: 'list', resource: 'flexplugins', namespace: params.namespace }],
      handle: ({ params, query }) => Promise.resolve({ json: list(ctx, query, params.namespace) }),
    }),
    route({
      method: 'get',
      path: '/namespaces/{namespace}/plugins/{name}',
      operationId: 'getPlugin',
      summary: 'One plugin, with the pipelines that use it',
      tags: ['plugins'],
      params: ObjectParams,
      responses: {
        200: { description: 'The plugin', schema: PluginSummary },
        404: { description: 'No such plugin' },
      },
      access: ({ params }) => [
        { verb: 'get', resource: 'flexplugins', namespace: params.namespace, name: params.name },
      ],
      handle: ({ params }) => {
        const p = pluginOf(ctx, params.namespace, params.name);
        return Promise.resolve({ json: pluginSummary(p, ctx.pipelines.list()) });
      },
    }),
  ];
}
