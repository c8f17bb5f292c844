/** A pipeline's stored Singer bookmarks, one entry per tap step paired with a target. */
import { stateIdOf } from '../../pipeline/state-id.js';
import type { ApiContext } from '../api-context.js';
import { route, type Route } from '../route.js';
import { pipelineOf } from './lookups.js';
import { PipelineParams, SingerStateList } from '../schemas.js';

export function singerStateRoutes(ctx: ApiContext): Route[] {
  return [
    route({
      method: 'get',
      path: '/namespaces/{namespace}/pipelines/{name}/singer-state',
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
        const items = steps.map(({ step, stateId }) => {
          const r = rows.get(stateId);
          return {
            step,
            stateId,
            ...(r?.state && { state: r.state, stateRunId: r.stateRunId, stateAt: r.stateAt?.toISOString() }),
            ...(r?.partialState && {
              partialState: r.partialState,
              partialRunId: r.partialRunId,
              partialAt: r.partialAt?.toISOString(),
            }),
          };
        });
        return { json: { items } };
      },
    }),
  ];
}
