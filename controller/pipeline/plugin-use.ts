/** Which pipelines run a plugin: a plugin change re-plans them, and the API lists them. */
import type { PipelineObject, PluginObject } from '../objects.js';

/**
 * What a decision about `p` that depends only on its spec and its namespace's plugins was made
 * for: its generation and every plugin's name and version. Memos compare it to know when to decide again.
 */
export function specAndPluginsKey(
  p: Readonly<PipelineObject>,
  plugins: ReadonlyMap<string, PluginObject>,
): string {
  const versions = [...plugins.values()].map((x) => `${x.metadata.name}@${x.metadata.resourceVersion}`);
  return `${p.metadata.generation}/${versions.join(',')}`;
}

/** Whether a step of `p` runs `plugin` (as its plugin or as its Singer target). */
export function usesPlugin(p: Readonly<PipelineObject>, plugin: Readonly<PluginObject>): boolean {
  if (p.metadata.namespace !== plugin.metadata.namespace) return false;
  const name = plugin.metadata.name;
  return p.spec.steps.some((s) => s.plugin === name || s.target?.plugin === name);
}
