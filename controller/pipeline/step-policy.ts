/** The effective per-step settings: the step's own, else the plugin's defaults, else FlexCore's. */
import type { FlexPluginSpec, RetryPolicy, Step } from '../../api/v1alpha1/index.js';

type PluginLike = { readonly spec: Pick<FlexPluginSpec, 'defaults'> } | undefined;

/** Timeout of one attempt when neither the step nor its plugin sets one. */
export const DEFAULT_TIMEOUT_SECONDS = 3600;

export function effectiveRetries(step: Step, plugin: PluginLike): RetryPolicy | undefined {
  return step.retries ?? plugin?.spec.defaults?.retries;
}

export function effectiveTimeoutSeconds(step: Step, plugin: PluginLike): number {
  return step.timeoutSeconds ?? plugin?.spec.defaults?.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
}
