/**
 * Where a Singer target loads (pure): the step's `loadSchema`, else the pipeline's, becomes the
 * target's `default_target_schema`. It takes the place of the setting's default, so the
 * target's own config and configFrom still win; that order is kept by resolvePluginConfig
 * rather than decided here, because a whole Secret (secretRef) may hold the key, and only the
 * Secret's contents tell.
 */
import type { FlexPipelineSpec, FlexPlugin, Step } from '../../../api/v1alpha1/index.js';
import { isSecretSetting } from '../../../api/v1alpha1/index.js';

/** The Singer SDK's setting for the schema a target loads into. */
export const LOAD_SCHEMA_SETTING = 'default_target_schema';

/**
 * The values that replace the target's setting defaults: `default_target_schema` when a schema
 * is given and the target declares that setting as a plain string (a setting it does not
 * declare is never sent; a secret one may only come from a Secret), else nothing.
 */
export function loadSchemaDefaults(
  pipeline: Pick<FlexPipelineSpec, 'loadSchema'>,
  step: Pick<Step, 'loadSchema'>,
  target: Pick<FlexPlugin, 'spec'>,
): Readonly<Record<string, string>> {
  const schema = step.loadSchema ?? pipeline.loadSchema;
  if (schema === undefined) return {};
  const setting = (target.spec.settings ?? []).find((s) => s.name === LOAD_SCHEMA_SETTING);
  if (!setting || setting.kind !== 'string' || isSecretSetting(setting)) return {};
  return { [LOAD_SCHEMA_SETTING]: schema };
}
