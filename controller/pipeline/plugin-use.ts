/** Which pipelines run a plugin: a plugin change re-plans them, and the API lists them. */
import type { PipelineObject, PluginObject } from '../objects.js';

/** Whether a step of `p` runs `plugin` (as its plugin or as its Singer target). */
export function usesPlugin(p: Readonly<PipelineObject>, plugin: Readonly<PluginObject>): boolean {
  if (p.metadata.namespace !== plugin.metadata.namespace) return false;
  const name = plugin.metadata.name;
  return p.spec.steps.some((s) => s.plugin === name || s.target?.plugin === name);
}
