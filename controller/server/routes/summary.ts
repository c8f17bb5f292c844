/** GET /summary: finished runs by result and their duration percentiles, per day or per pipeline. */
import type { z } from 'zod';
import { durationQuantile } from '../../store/duration-buckets.js';
import type { SummaryGroup as StoreGroup } from '../../store/api-queries.js';
import type { ApiContext } from '../api-context.js';
import { badRequest } from '../problem.js';
import { route, type Route } from '../route.js';
import type { SummaryGroup } from '../schemas.js';
import { NamespaceParams, Summary, SummaryQuery } from '../schemas.js';

const DAY_MS = 86_400_000;
const round = (n: number): number => Math.round(n * 1000) / 1000;

export function summaryGroupView(g: StoreGroup): z.infer<typeof SummaryGroup> {
  const total = Object.values(g.runs).reduce((a, b) => a + b, 0);
  const q = (p: number): number => round(durationQuantile(g.buckets, p) ?? 0);
  return {
    key: g.key,
    runs: g.runs,
    total,
    durationSeconds: {
      mean: total ? round(g.durationMsSum / total / 1000) : 0,
      p50: q(0.5),
      p90: q(0.9),
      p99: q(0.99),
    },
  };
}

/** The first day counted: the query's, or 7 days back; 400 when it is in the future or over 400 days back. */
function sinceOf(since: string | undefined, now: number): string {
  const day = since ?? new Date(now - 7 * DAY_MS).toISOString().slice(0, 10);
  const t = Date.parse(`${day}T00:00:00Z`);
  if (t > now || t < now - 400 * DAY_MS) {
    throw badRequest([{ in: 'query', name: 'since', reason: 'must be a day within the last 400 days' }]);
  }
  return day;
}

export function summaryRoutes(ctx: ApiContext): Route[] {
  const answer = async (
    q: z.output<typeof SummaryQuery>,
    namespace?: string,
  ): Promise<z.infer<typeof Summary>> => {
    const since = sinceOf(q.since, Date.now());
    const groups = await ctx.queries.summary(since, q.groupBy, namespace);
    return { since, groupBy: q.groupBy, groups: groups.map(summaryGroupView) };
  };
  const description =
    'Counts come from daily summary rows kept as runs finish (by start day, UTC), so the answer costs days × pipelines, not the run history.';
  return [
    route({
      method: 'get',
      path: '/summary',
      operationId: 'getSummary',
      summary: 'Finished runs by result, with duration percentiles, across every namespace',
      description,
      tags: ['runs'],
      query: SummaryQuery,
      responses: { 200: { description: 'The summary', schema: Summary } },
      access: () => [{ verb: 'list', resource: 'flexpipelines' }],
      handle: async ({ query }) => ({ json: await answer(query) }),
    }),
    route({
      method: 'get',
      path: '/namespaces/{namespace}/summary',
      operationId: 'getNamespaceSummary',
      summary: 'Finished runs of a namespace by result, with duration percentiles',
      description,
      tags: ['runs'],
      params: NamespaceParams,
      query: SummaryQuery,
      responses: { 200: { description: 'The summary', schema: Summary } },
      access: ({ params }) => [{ verb: 'list', resource: 'flexpipelines', namespace: params.namespace }],
      handle: async ({ params, query }) => ({ json: await answer(query, params.namespace) }),
    }),
  ];
}
