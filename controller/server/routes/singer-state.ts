/**
 * A pipeline's stored Singer bookmarks, one entry per tap step paired with a target: read them,
 * set one by hand, clear one. A change is an event (SingerStateSet, SingerStateCleared) on
 * stream singer-state-<stateId> with the caller in it; the projection makes it what the next
 * run's tap receives.
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { Step } from '../../../api/v1alpha1/flexpipeline.js';
import type { PipelineObject } from '../../objects.js';
import { stateIdOf } from '../../pipeline/state-id.js';
import { resumeFrom } from '../../store/resume-state.js';
import type { SingerStateRow } from '../../store/api-queries.js';
import type { ApiContext } from '../api-context.js';
import { ApiProblem, conflict, notFound } from '../problem.js';
import { route, type Route } from '../route.js';
import type { SingerStateEntry } from '../schemas.js';
import {
  PipelineParams,
  SingerStateBody,
  SingerStateChanged,
  SingerStateList,
  StepParams,
} from '../schemas.js';
import { pipelineOf } from './lookups.js';

type SingerStateEntryBody = z.input<typeof SingerStateEntry>;

const STATE_PATH = '/namespaces/{namespace}/pipelines/{name}/singer-state';

function entry(step: string, stateId: string, r: SingerStateRow | undefined): SingerStateEntryBody {
  const from = resumeFrom(r);
  return {
    step,
    stateId,
    ...(r?.state && { state: r.state, stateRunId: r.stateRunId, stateAt: r.stateAt?.toISOString() }),
    ...(r?.partialState && {
      partialState: r.partialState,
      partialRunId: r.partialRunId,
      partialAt: r.partialAt?.toISOString(),
    }),
    ...(r?.changedBy !== undefined && { changedBy: r.changedBy }),
    ...(from && { resumeFrom: from }),
  };
}

/** The Singer tap step `name` of the pipeline, or 404 naming what is there. */
function singerStep(p: Readonly<PipelineObject>, name: string): Step {
  const step = p.spec.steps.find((s) => s.name === name);
  if (!step) throw notFound(`no step "${name}" in FlexPipeline "${p.metadata.name}"`);
  if (!step.target) {
    const singer = p.spec.steps.filter((s) => s.target).map((s) => s.name);
    throw notFound(
      `step "${name}" has no Singer target, so it keeps no state (Singer steps: ${singer.join(', ') || 'none'})`,
    );
  }
  return step;
}

/**
 * 409 while a run of a pipeline that shares the state id is active: its tap already read the
 * old state and its target would overwrite the change when it ends.
 */
async function refuseWhileRunning(ctx: ApiContext, namespace: string, stateId: string): Promise<void> {
  const sharing = ctx.pipelines
    .list()
    .filter((p) => p.metadata.namespace === namespace)
    .filter((p) => p.spec.steps.some((s) => s.target && stateIdOf(p, s) === stateId));
  const pipelines = sharing.map((p) => ({ namespace, name: p.metadata.name }));
  const { runs } = await ctx.queries.runs({ pipelines, phases: ['Running'] }, 'desc', 1);
  const running = runs[0];
  if (running) {
    throw conflict(
      `run "${running.runId}" of FlexPipeline "${running.pipeline}" uses state "${stateId}" and is still running; change the state when it has finished, or cancel it`,
    );
  }
}

function changeRoute(ctx: ApiContext, method: 'put' | 'delete'): Route {
  const set = method === 'put';
  return route({
    method,
    path: `${STATE_PATH}/{step}`,
    operationId: set ? 'setSingerState' : 'clearSingerState',
    summary: set ? "Set a step's Singer state" : "Clear a step's Singer state",
    description: set
      ? "Records SingerStateSet: the next run's tap starts from this state (any partial state is dropped). 409 while a run that uses the state id is active. The body is at most 64 KiB."
      : "Records SingerStateCleared: the next run's tap starts from nothing, as on its first run. 409 while a run that uses the state id is active.",
    tags: ['commands'],
    params: StepParams,
    ...(set && { body: SingerStateBody }),
    responses: {
      200: { description: 'Recorded; the stored state as the next run sees it', schema: SingerStateChanged },
      404: { description: 'No such pipeline or step, or the step is not a Singer tap step' },
      409: { description: 'A run that uses the state id is active' },
    },
    access: ({ params }) => [
      { verb: 'patch', resource: 'flexpipelines', namespace: params.namespace, name: params.name },
    ],
    handle: async ({ params, body, caller }) => {
      const p = pipelineOf(ctx, params.namespace, params.name);
      const stateId = stateIdOf(p, singerStep(p, params.step));
      if (!ctx.events) throw new ApiProblem(503, 'events-unavailable', 'this replica does not record events');
      await refuseWhileRunning(ctx, params.namespace, stateId);
      const at = new Date().toISOString();
      const data = set
        ? {
            stateId,
            state: body.state,
            requestedBy: caller.username,
            at,
          }
        : { stateId, requestedBy: caller.username, at };
      const recorded = await ctx.events.append(`singer-state-${stateId}`, {
        id: randomUUID(),
        type: set ? 'SingerStateSet' : 'SingerStateCleared',
        data,
        metadata: {
          requestedBy: caller.username,
          pipeline: { namespace: params.namespace, name: params.name },
        },
      });
      const [row] = await ctx.queries.singerStates([stateId]);
      return { json: { ...entry(params.step, stateId, row), position: recorded.position } };
    },
  });
}

export function singerStateRoutes(ctx: ApiContext): Route[] {
  return [
    route({
      method: 'get',
      path: STATE_PATH,
      operationId: 'getSingerState',
      summary: 'The stored Singer bookmarks of the pipeline, per tap step',
      tags: ['pipelines'],
      params: PipelineParams,
      responses: {
        200: { description: 'One entry per Singer step', schema: SingerStateList },
        404: { description: 'No such pipeline' },
      },
      access: ({ params }) => [
        { verb: 'get', resource: 'flexpipelines', namespace: params.namespace, name: params.name },
      ],
      handle: async ({ params }) => {
        const p = pipelineOf(ctx, params.namespace, params.name);
        const steps = p.spec.steps
          .filter((s) => s.target)
          .map((s) => ({ step: s.name, stateId: stateIdOf(p, s) }));
        const rows = new Map(
          (await ctx.queries.singerStates(steps.map((s) => s.stateId))).map((r) => [r.stateId, r]),
        );
        return { json: { items: steps.map(({ step, stateId }) => entry(step, stateId, rows.get(stateId))) } };
      },
    }),
    changeRoute(ctx, 'put'),
    changeRoute(ctx, 'delete'),
  ];
}
