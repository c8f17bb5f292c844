/**
 * Commands: a manual run and a cancel. They only annotate the FlexPipeline (the reconcile stays
 * the single writer of runs, GitOps the source of truth for spec); the answer waits a moment for
 * the controller to take the request up, so a caller usually learns the run id at once.
 */
import { randomBytes } from 'node:crypto';
import { keyOf } from '../../objects.js';
import { ANNOTATIONS } from '../../pipeline/labels.js';
import type { ApiContext } from '../api-context.js';
import { badRequest, conflict } from '../problem.js';
import { route, type Route } from '../route.js';
import { CancelRequested, PipelineParams, RunParams, RunRequestBody, RunRequested } from '../schemas.js';
import { commandsOf, pipelineOf, waitFor } from './lookups.js';
import { findRun } from './run-reads.js';
import { API_BASE_PATH } from '../api-paths.js';

function runCommand(ctx: ApiContext): Route {
  return route({
    method: 'post',
    path: '/namespaces/{namespace}/pipelines/{name}/runs',
    operationId: 'requestRun',
    summary: 'Start a manual run',
    description:
      'Sets flexcore.io/run-requested to a new value (and flexcore.io/run-full-refresh for that run only). 201 with the run id once the controller started it (it waits up to 5 s), else 202.',
    tags: ['commands'],
    params: PipelineParams,
    body: RunRequestBody,
    responses: {
      201: { description: 'The run started', schema: RunRequested },
      202: { description: 'Requested; the controller has not started it yet', schema: RunRequested },
      404: { description: 'No such pipeline' },
    },
    access: ({ params }) => [
      { verb: 'patch', resource: 'flexpipelines', namespace: params.namespace, name: params.name },
    ],
    handle: async ({ params, body, caller, res }) => {
      const p = pipelineOf(ctx, params.namespace, params.name);
      const stepNames = new Set(p.spec.steps.map((s) => s.name));
      const unknown = (body.fullRefresh ?? []).filter((s) => s !== '*' && !stepNames.has(s));
      if (unknown.length > 0) {
        throw badRequest([
          { in: 'body', name: 'fullRefresh', reason: `no step ${unknown.join(', ')} in the pipeline` },
        ]);
      }
      const request = `api-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
      await commandsOf(ctx).annotate(params.namespace, params.name, {
        [ANNOTATIONS.runRequested]: request,
        [ANNOTATIONS.runFullRefresh]: body.fullRefresh?.length ? body.fullRefresh.join(',') : null,
        [ANNOTATIONS.requestedBy]: caller.username,
      });
      const runId = await waitFor(() => {
        const status = ctx.pipelines.get(keyOf({ namespace: params.namespace, name: params.name }))?.status;
        if (status?.lastRunRequest !== request) return undefined;
        const run = [status.currentRun, status.lastRun].find((r) => r?.trigger === 'Manual');
        return run?.id;
      });
      if (runId)
        res.location(
          `${API_BASE_PATH}/namespaces/${params.namespace}/pipelines/${params.name}/runs/${runId}`,
        );
      return {
        status: runId ? 201 : 202,
        json: { namespace: params.namespace, pipeline: params.name, request, ...(runId && { runId }) },
      };
    },
  });
}

function cancelCommand(ctx: ApiContext): Route {
  return route({
    method: 'post',
    path: '/namespaces/{namespace}/pipelines/{name}/runs/{runId}/cancel',
    operationId: 'cancelRun',
    summary: 'Cancel a run',
    description:
      'Sets flexcore.io/cancel-run to the run id; the controller stops its Pods and records it Cancelled. Waits up to 5 s for that. 409 for a run that already finished.',
    tags: ['commands'],
    params: RunParams,
    responses: {
      202: { description: 'Cancel requested (phase says whether it is done)', schema: CancelRequested },
      404: { description: 'No such run' },
      409: { description: 'The run already finished' },
    },
    access: ({ params }) => [
      { verb: 'patch', resource: 'flexpipelines', namespace: params.namespace, name: params.name },
    ],
    handle: async ({ params, caller }) => {
      const scope = { namespace: params.namespace, pipeline: params.name };
      const run = await findRun(ctx, params.runId, scope);
      if (run.phase !== 'Running') throw conflict(`run "${run.runId}" already finished (${run.phase})`);
      pipelineOf(ctx, params.namespace, params.name);
      await commandsOf(ctx).annotate(params.namespace, params.name, {
        [ANNOTATIONS.cancelRun]: run.runId,
        [ANNOTATIONS.requestedBy]: caller.username,
      });
      const done = await waitFor(async () => {
        const now = await ctx.queries.run(run.runId);
        return now && now.phase !== 'Running' ? now.phase : undefined;
      });
      return {
        status: 202,
        json: {
          namespace: params.namespace,
          pipeline: params.name,
          runId: run.runId,
          phase: done ?? 'Running',
        },
      };
    },
  });
}

export function commandRoutes(ctx: ApiContext): Route[] {
  return [runCommand(ctx), cancelCommand(ctx)];
}
