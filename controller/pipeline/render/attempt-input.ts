/** What one attempt of one step needs to be rendered: the input of every renderer here. */
import type { FlexPipeline, FlexPlugin, Step } from '../../../api/v1alpha1/index.js';

/**
 * One attempt of one step, with everything it depends on already read by the caller. The
 * renderers are pure: the same input always gives the same objects.
 */
export interface AttemptInput {
  /** The pipeline (metadata.name, namespace and uid are used, and spec.podMetadata). */
  readonly pipeline: FlexPipeline;
  /** The step of the pipeline this attempt runs. */
  readonly step: Step;
  /** The step's plugin (for a Singer pair: the tap). */
  readonly plugin: FlexPlugin;
  /** The target's plugin, required when `step.target` is set (Singer pairing). */
  readonly targetPlugin?: FlexPlugin;
  /** The run id, e.g. `g3-1f2e3d4c`; passed to the plugin as FLEXCORE_RUN_ID. */
  readonly runId: string;
  /** Short, label-safe key of the run, e.g. `g3`, `m-1a2b3c4d`, `s-202611211430`. */
  readonly runKey: string;
  /** The attempt number, starting at 1. */
  readonly attempt: number;
  /** Name of the Pod, chosen (deterministically) by the caller. */
  readonly podName: string;
  /** Name of the per-attempt config Secret, chosen by the caller (the Pod name is fine). */
  readonly secretName: string;
  /** Singer state for the tap (`--state`); undefined on a first run or a full refresh. */
  readonly singerState?: Record<string, unknown>;
  /** A discovery attempt: the tap runs with --discover and prints its catalog (see discovery-wrapper.ts). */
  readonly discover?: boolean;
  /** The catalog the tap syncs with, and the flag that passes it (by the tap's capabilities). */
  readonly catalog?: { readonly content: unknown; readonly flag: '--catalog' | '--properties' };
  /**
   * The config file comes from a Pod annotation instead of a Secret (config-carrier.ts), as
   * recorded when the attempt was scheduled.
   */
  readonly inlineConfig?: boolean;
  /** W3C trace context of the attempt's span (tracing on): plugins that speak OpenTelemetry join the run's trace. */
  readonly traceparent?: string;
  /** The user Secrets named by `configFrom`: name → decoded key/value pairs. */
  readonly secrets: ReadonlyMap<string, Readonly<Record<string, string>>>;
}
