/** The reads behind the run routes: list requests to keyset pages, a run found within its scope, a run's detail. */
import type { z } from 'zod';
import { matchesLabels } from '../../kube/label-selector.js';
import { keyOf } from '../../objects.js';
import type { RunFilter, RunKey, RunRow } from '../../store/api-queries.js';
import type { ApiContext } from '../api-context.js';
import { decodePageToken, encodePageToken } from '../page-token.js';
import { badRequest, notFound } from '../problem.js';
import type { RunDetail, RunList, RunListQuery } from '../schemas.js';
import { runDetail, runView } from '../views/run-view.js';
import { selectorParam } from './list-page.js';

/** Where a list looks: every namespace, one, or one pipeline. */
export interface RunScope {
  readonly namespace?: string;
  readonly pipeline?: string;
}

/** The `pipeline` query parameter within the path's scope; 400 when it leaves it. */
function narrow(scope: RunScope, pipeline: string | undefined): RunScope {
  if (pipeline === undefined) return scope;
  const [ns, name] = pipeline.includes('/') ? pipeline.split('/') : [scope.namespace, pipeline];
  if (ns === undefined) {
    throw badRequest([
      { in: 'query', name: 'pipeline', reason: 'must be namespace/name when listing all namespaces' },
    ]);
  }
  if (
    (scope.namespace !== undefined && ns !== scope.namespace) ||
    (scope.pipeline !== undefined && name !== scope.pipeline)
  ) {
    throw badRequest([{ in: 'query', name: 'pipeline', reason: 'names another pipeline than the path' }]);
  }
  return { namespace: ns, pipeline: name };
}

/** The store filter of a list request; a label selector is resolved to the cached pipelines it matches. */
export function runFilter(ctx: ApiContext, path: RunScope, q: RunListQuery): RunFilter {
  const { namespace, pipeline } = narrow(path, q.pipeline);
  const selector = selectorParam(q.labelSelector);
  const pipelines =
    q.labelSelector === undefined
      ? undefined
      : ctx.pipelines
          .list()
          .filter((p) => namespace === undefined || p.metadata.namespace === namespace)
          .filter((p) => matchesLabels(selector, p.metadata.labels))
          .map((p) => ({ namespace: p.metadata.namespace, name: p.metadata.name }));
  return {
    namespace,
    pipeline,
    phases: q.phase,
    triggers: q.trigger,
    startedAfter: q.startedAfter === undefined ? undefined : new Date(q.startedAfter),
    startedBefore: q.startedBefore === undefined ? undefined : new Date(q.startedBefore),
    pipelines,
  };
}

export async function listRuns(
  ctx: ApiContext,
  scope: RunScope,
  q: RunListQuery,
): Promise<z.infer<typeof RunList>> {
  const bound = { ...q, ...scope };
  const after = q.pageToken ? decodePageToken(q.pageToken, bound, 2) : undefined;
  if (after && !/^-?\d{1,19}$/.test(after[0]!)) {
    throw badRequest([{ in: 'query', name: 'pageToken', reason: 'is not a page token of this list' }]);
  }
  const key: RunKey | undefined = after && { startedUs: after[0]!, runId: after[1]! };
  const page = await ctx.queries.runs(runFilter(ctx, scope, q), q.order, q.limit, key);
  return {
    items: page.runs.map(runView),
    ...(page.next && { nextPageToken: encodePageToken([page.next.startedUs, page.next.runId], bound) }),
  };
}

/** The run `runId` if it belongs to the scope (a namespace, and a pipeline when given); 404 otherwise. */
export async function findRun(
  ctx: ApiContext,
  runId: string,
  scope: { namespace: string; pipeline?: string },
): Promise<RunRow> {
  const run = await ctx.queries.run(runId);
  if (
    !run ||
    run.namespace !== scope.namespace ||
    (scope.pipeline !== undefined && run.pipeline !== scope.pipeline)
  ) {
    const of = scope.pipeline ? ` of pipeline "${scope.pipeline}"` : '';
    throw notFound(`no run "${runId}"${of} in namespace "${scope.namespace}"`);
  }
  return run;
}

/** A run with its attempts, and what the pipeline's status knows of it while it is current. */
export async function detailOf(ctx: ApiContext, run: RunRow): Promise<z.infer<typeof RunDetail>> {
  const current = ctx.pipelines.get(keyOf({ namespace: run.namespace, name: run.pipeline }))?.status
    ?.currentRun;
  return runDetail(run, await ctx.queries.attempts(run.runId), current);
}
