/**
 * POST .../plugins/{name}/execute: one ad hoc run of a plugin, as a one-step FlexPipeline created
 * from generateName and labelled ad hoc. The reconcile runs it like any pipeline and deletes it a
 * TTL after it finished (controller/pipeline/ad-hoc.ts); its history stays in the store.
 */
import { validateManifest } from '../../../api/v1alpha1/validate.js';
import { keyOf } from '../../objects.js';
import { ANNOTATIONS, LABELS } from '../../pipeline/labels.js';
import type { ApiContext } from '../api-context.js';
import { API_BASE_PATH } from '../api-paths.js';
import { badRequest } from '../problem.js';
import { commandsOf, pluginOf, waitFor } from './lookups.js';
import { route, type Route } from '../route.js';
import { ExecuteAccepted, ExecuteBody, ObjectParams } from '../schemas.js';

const STEP = 'run';
const STEP_PATH = `spec.steps[0].`;

function manifestOf(
  plugin: string,
  body: ReturnType<typeof ExecuteBody.parse>,
  user: string,
): Record<string, unknown> {
  const { ttlSecondsAfterFinished, ...step } = body;
  return {
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPipeline',
    metadata: {
      generateName: `${plugin.slice(0, 40)}-adhoc-`,
      labels: { [LABELS.adHoc]: 'true', [LABELS.plugin]: plugin },
      annotations: {
        [ANNOTATIONS.ttlAfterFinished]: String(ttlSecondsAfterFinished),
        [ANNOTATIONS.requestedBy]: user,
      },
    },
    spec: { steps: [{ name: STEP, plugin, ...step }] },
  };
}

export function executeRoutes(ctx: ApiContext): Route[] {
  return [
    route({
      method: 'post',
      path: '/namespaces/{namespace}/plugins/{name}/execute',
      operationId: 'executePlugin',
      summary: 'Run a plugin once, ad hoc',
      description:
        'Creates a one-step FlexPipeline (generateName `<plugin>-adhoc-`, label flexcore.io/ad-hoc=true) that runs the plugin with the given config, and is deleted ttlSecondsAfterFinished after its run finished. Waits up to 5 s for the run to start.',
      tags: ['commands'],
      params: ObjectParams,
      body: ExecuteBody,
      responses: {
        201: { description: 'The ad hoc pipeline was created', schema: ExecuteAccepted },
        404: { description: 'No such plugin' },
      },
      access: ({ params }) => [
        { verb: 'get', resource: 'flexplugins', namespace: params.namespace, name: params.name },
        { verb: 'create', resource: 'flexpipelines', namespace: params.namespace },
      ],
      handle: async ({ params, body, caller, res }) => {
        pluginOf(ctx, params.namespace, params.name);
        const manifest = manifestOf(params.name, body, caller.username);
        const verdict = validateManifest({
          ...manifest,
          metadata: { ...(manifest.metadata as object), name: 'x' },
        });
        if (verdict.kind === 'checked' && verdict.problems.length > 0) {
          throw badRequest(
            verdict.problems.map((p) => ({
              in: 'body' as const,
              name: p.path.startsWith(STEP_PATH) ? p.path.slice(STEP_PATH.length) : p.path,
              reason: p.message,
            })),
          );
        }
        const name = await commandsOf(ctx).createPipeline(params.namespace, manifest);
        const runId = await waitFor(() => {
          const status = ctx.pipelines.get(keyOf({ namespace: params.namespace, name }))?.status;
          return (status?.currentRun ?? status?.lastRun)?.id;
        });
        res.location(`${API_BASE_PATH}/namespaces/${params.namespace}/pipelines/${name}`);
        return {
          status: 201,
          json: { namespace: params.namespace, pipeline: name, ...(runId && { runId }) },
        };
      },
    }),
  ];
}
