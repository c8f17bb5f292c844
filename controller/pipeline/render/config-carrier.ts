/**
 * How an attempt's config reaches its container (pure). A step that takes nothing from a
 * Secret and passes no Singer state or catalog gets its config file from a Pod annotation
 * through a downward-API volume: the file is the same, but no per-attempt Secret is created
 * and deleted (two API requests a run). Everything in such a file is already plain text in
 * the FlexPipeline and FlexPlugin (a secret setting may only come through configFrom).
 */
import { effectiveProtocol, type FlexPlugin, type Step } from '../../../api/v1alpha1/index.js';

/** The Pod annotation that carries an inline config file. */
export const INLINE_CONFIG_ANNOTATION = 'flexcore.io/config';

/**
 * The most plain config (the step's `config` and the plugin's settings, as JSON) carried in an
 * annotation; a Pod's annotations may hold 256 KiB in all, and users add their own.
 */
export const INLINE_CONFIG_LIMIT = 32 * 1024;

/** True when the attempt's config goes inline (decided when the attempt is scheduled, and recorded). */
export function configGoesInline(step: Step, plugin: FlexPlugin | undefined, discover = false): boolean {
  if (!plugin || discover || step.target !== undefined) return false;
  if ((step.configFrom ?? []).length > 0) return false;
  // A tap's state and catalog travel with its config.
  if (effectiveProtocol(plugin.spec) === 'singer' && plugin.spec.type === 'tap') return false;
  const plain = JSON.stringify(step.config ?? {}).length + JSON.stringify(plugin.spec.settings ?? []).length;
  return plain <= INLINE_CONFIG_LIMIT;
}
