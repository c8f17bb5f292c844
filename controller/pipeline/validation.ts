/**
 * Can this pipeline start runs? (pure) The schema rules (again, for objects admitted before a
 * CRD upgrade), then what needs other objects: plugins exist and are valid, Singer pairing
 * joins a tap to a target, step config matches the plugin settings.
 */
import {
  validateManifest,
  isSecretSetting,
  matchesKind,
  effectiveProtocol,
  type FlexPipelineSpec,
  type Step,
  type SingerTarget,
} from '../../api/v1alpha1/index.js';
import type { FlexPlugin } from '../../api/v1alpha1/index.js';
import type { PipelineObject, PluginObject } from '../objects.js';
import { catalogNeed } from './catalog-need.js';
import { loadSchemaDefaults } from './render/load-schema.js';

export interface Invalid {
  readonly reason: string;
  readonly message: string;
}

/** The first schema problem of a stored object (status and server metadata left out). */
function firstSchemaProblem(o: PipelineObject | PluginObject): Invalid | undefined {
  const { apiVersion, kind, spec, metadata } = o;
  const verdict = validateManifest({
    apiVersion,
    kind,
    spec,
    metadata: { name: metadata.name, namespace: metadata.namespace },
  });
  const first = verdict.kind === 'checked' ? verdict.problems[0] : undefined;
  if (!first) return undefined;
  const reason = /cycle/.test(first.message) ? 'DependencyCycle' : 'InvalidSpec';
  return { reason, message: `${first.path}: ${first.message}` };
}

/** Problems of one plugin on its own (also its Ready condition). */
export function pluginProblem(plugin: PluginObject): Invalid | undefined {
  return firstSchemaProblem(plugin);
}

type Config = { config?: Record<string, unknown>; configFrom?: Step['configFrom'] };

/** `overrides`: values that replace setting defaults (the loadSchema), so they count as given. */
function configProblem(
  where: string,
  c: Config,
  plugin: PluginObject,
  overrides: Readonly<Record<string, unknown>> = {},
): string | undefined {
  const settings = plugin.spec.settings ?? [];
  if (settings.length === 0) return undefined;
  const byName = new Map(settings.map((s) => [s.name, s]));
  for (const [key, value] of Object.entries(c.config ?? {})) {
    const setting = byName.get(key);
    if (!setting) return `${where}: plugin ${plugin.metadata.name} has no setting "${key}"`;
    if (isSecretSetting(setting))
      return `${where}: setting "${key}" is secret; give it with configFrom, not config`;
    if (!matchesKind(value, setting.kind))
      return `${where}: setting "${key}" must be of kind ${setting.kind}`;
  }
  const fromSecret = new Set((c.configFrom ?? []).flatMap((f) => (f.setting ? [f.setting] : [])));
  const wholeSecret = (c.configFrom ?? []).some((f) => f.secretRef);
  for (const s of settings) {
    const given =
      s.name in (c.config ?? {}) ||
      fromSecret.has(s.name) ||
      s.default !== undefined ||
      Object.hasOwn(overrides, s.name);
    if (s.required && !given && !wholeSecret) return `${where}: required setting "${s.name}" is not set`;
  }
  return undefined;
}

function stepProblem(
  step: Step,
  spec: FlexPipelineSpec,
  plugins: ReadonlyMap<string, PluginObject>,
): Invalid | undefined {
  const where = `step ${step.name}`;
  const plugin = plugins.get(step.plugin);
  if (!plugin)
    return { reason: 'PluginNotFound', message: `${where}: FlexPlugin "${step.plugin}" not found` };
  const bad = pluginProblem(plugin);
  if (bad)
    return {
      reason: 'PluginInvalid',
      message: `${where}: FlexPlugin "${step.plugin}" is invalid: ${bad.message}`,
    };
  const config = configProblem(where, step, plugin);
  if (config) return { reason: 'ConfigInvalid', message: config };
  const need = catalogNeed(step, plugin as unknown as FlexPlugin);
  if (need.kind === 'problem') return { reason: need.reason, message: need.message };
  return step.target ? targetProblem(where, step, step.target, plugin, plugins, spec) : undefined;
}

function targetProblem(
  where: string,
  step: Step,
  target: SingerTarget,
  tap: PluginObject,
  plugins: ReadonlyMap<string, PluginObject>,
  spec: FlexPipelineSpec,
): Invalid | undefined {
  if (tap.spec.type !== 'tap' || effectiveProtocol(tap.spec) !== 'singer') {
    return {
      reason: 'InvalidPairing',
      message: `${where}: only a Singer tap can have a target; ${step.plugin} is a ${tap.spec.type}`,
    };
  }
  const plugin = plugins.get(target.plugin);
  if (!plugin)
    return { reason: 'PluginNotFound', message: `${where}: target FlexPlugin "${target.plugin}" not found` };
  if (plugin.spec.type !== 'target' || effectiveProtocol(plugin.spec) !== 'singer') {
    return { reason: 'InvalidPairing', message: `${where}: ${target.plugin} is not a Singer target` };
  }
  const bad = pluginProblem(plugin);
  if (bad)
    return {
      reason: 'PluginInvalid',
      message: `${where}: FlexPlugin "${target.plugin}" is invalid: ${bad.message}`,
    };
  const config = configProblem(`${where} target`, target, plugin, loadSchemaDefaults(spec, step, plugin));
  return config ? { reason: 'ConfigInvalid', message: config } : undefined;
}

/** Why the pipeline cannot start runs, or undefined when it can. */
export function pipelineProblem(
  p: PipelineObject,
  plugins: ReadonlyMap<string, PluginObject>,
): Invalid | undefined {
  const schema = firstSchemaProblem(p);
  if (schema) return schema;
  for (const step of p.spec.steps) {
    const problem = stepProblem(step, p.spec, plugins);
    if (problem) return problem;
  }
  return undefined;
}
