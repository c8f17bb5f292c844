/** An attempt's stored log tail, served after its Pod is gone. */
import type { ApiContext } from '../api-context.js';
import { notFound } from '../problem.js';
import { route, type Route } from '../route.js';
import { AttemptParams, LogQuery } from '../schemas.js';
import { findRun } from './run-reads.js';

export function logRoutes(ctx: ApiContext): Route[] {
  return [
    route({
      method: 'get',
      path: '/namespaces/{namespace}/pipelines/{name}/runs/{runId}/steps/{step}/attempts/{attempt}/log',
      operationId: 'getAttemptLog',
      summary: "The stored tail of an attempt's log",
      description:
        'The last 64 KiB of each container, stored when the attempt finished: available after its Pod is gone. Several containers (a Singer tap and target) come one after the other under a `==> container <==` line, unless `container` picks one. X-Log-Truncated says whether older lines were cut.',
      tags: ['runs'],
      params: AttemptParams,
      query: LogQuery,
      responses: {
        200: { description: 'The log tail', contentType: 'text/plain; charset=utf-8' },
        404: { description: 'No such run, or no log stored for the attempt (yet)' },
      },
      access: ({ params }) => [
        {
          verb: 'get',
          resource: 'flexpipelines',
          subresource: 'log',
          namespace: params.namespace,
          name: params.name,
        },
      ],
      handle: async ({ params, query }) => {
        const run = await findRun(ctx, params.runId, { namespace: params.namespace, pipeline: params.name });
        const tails = await ctx.queries.logTails(run.runId, params.step, params.attempt, query.container);
        if (tails.length === 0) {
          const what = query.container ? `container "${query.container}" of ` : '';
          throw notFound(
            `no log stored for ${what}step "${params.step}" attempt ${params.attempt} of run "${run.runId}" (logs are stored when an attempt finishes)`,
          );
        }
        const text =
          tails.length === 1
            ? tails[0]!.tail
            : tails
                .map((t) => `==> ${t.container} <==\n${t.tail}${t.tail.endsWith('\n') ? '' : '\n'}`)
                .join('');
        return { text, headers: { 'X-Log-Truncated': String(tails.some((t) => t.truncated)) } };
      },
    }),
  ];
}
