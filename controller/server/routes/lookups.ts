/** What several routes look up the same way: cached objects (404 when absent), the command seam, a short wait. */
import { keyOf, type PipelineObject, type PluginObject } from '../../objects.js';
import type { ApiContext, PipelineCommands } from '../api-context.js';
import { ApiProblem, notFound } from '../problem.js';

/** The pipeline from the informer cache, or 404. */
export function pipelineOf(ctx: ApiContext, namespace: string, name: string): Readonly<PipelineObject> {
  const p = ctx.pipelines.get(keyOf({ namespace, name }));
  if (!p) throw notFound(`no FlexPipeline "${name}" in namespace "${namespace}"`);
  return p;
}

/** The plugin from the informer cache, or 404. */
export function pluginOf(ctx: ApiContext, namespace: string, name: string): Readonly<PluginObject> {
  const p = ctx.plugins.get(keyOf({ namespace, name }));
  if (!p) throw notFound(`no FlexPlugin "${name}" in namespace "${namespace}"`);
  return p;
}

/** The writes commands make, or 503 on a replica built without them. */
export function commandsOf(ctx: ApiContext): PipelineCommands {
  if (!ctx.commands) throw new ApiProblem(503, 'commands-unavailable', 'this replica does not take commands');
  return ctx.commands;
}

/** How long a command waits for the controller to take it up before answering without a run id. */
const WAIT_MS = 5000;

/** `check()`'s first defined answer, polled every 100 ms for up to 5 s; undefined when none came. */
export async function waitFor<T>(
  check: () => T | undefined | Promise<T | undefined>,
): Promise<T | undefined> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const v = await check();
    if (v !== undefined || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}
