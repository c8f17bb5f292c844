/**
 * The per-attempt config Secret: the plugin's config file, the target's for a Singer pair,
 * and the tap's state. Immutable, labelled like the Pod and owned by the pipeline. An attempt
 * whose config goes inline (config-carrier.ts) has no Secret: its one file is the text here.
 */
import type { V1Secret } from '@kubernetes/client-node';
import type { AttemptInput } from './attempt-input.js';
import type { ConfigProblem } from './config-problem.js';
import { planContainers } from './container-plan.js';
import { CONFIG_FILES } from './layout.js';
import { loadSchemaDefaults } from './load-schema.js';
import { attemptLabels, namespaceOf, ownerReference } from './metadata.js';
import { resolvePluginConfig } from './plugin-config.js';
import { pairingProblems } from './singer-wrapper.js';
import { volumeProblems } from './user-volumes.js';

/** The Secret to create (or the inline file), or why the attempt cannot run (a terminal, user-fixable error). */
export type AttemptConfig =
  { readonly secret: V1Secret } | { readonly inline: string } | { readonly problems: ConfigProblem[] };

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}

function resolveAll(input: AttemptInput): { files: Record<string, unknown>; problems: ConfigProblem[] } {
  const { step, plugin, targetPlugin, secrets } = input;
  const own = resolvePluginConfig({
    plugin,
    part: 'step',
    config: step.config,
    configFrom: step.configFrom,
    secrets,
  });
  const files: Record<string, unknown> = { [CONFIG_FILES.config]: own.values };
  const problems = [...own.problems];
  if (input.discover) return { files, problems: [...problems, ...volumeProblems(input)] };
  if (step.target && targetPlugin) {
    const { config, configFrom } = step.target;
    const defaultOverrides = loadSchemaDefaults(input.pipeline.spec, step, targetPlugin);
    const target = resolvePluginConfig({
      plugin: targetPlugin,
      part: 'target',
      config,
      configFrom,
      defaultOverrides,
      secrets,
    });
    files[CONFIG_FILES.targetConfig] = target.values;
    problems.push(...target.problems);
  }
  // The state goes where a tap reads it; a plain step given state has no use for it.
  if (planContainers(input).some((p) => p.state)) files[CONFIG_FILES.state] = input.singerState;
  if (planContainers(input).some((p) => p.catalog)) files[CONFIG_FILES.catalog] = input.catalog?.content;
  return { files, problems: [...problems, ...pairingProblems(input), ...volumeProblems(input)] };
}

/** The one file of an inline config, exactly as a Secret would have held it. */
function inlineText(files: Record<string, unknown>): string {
  return JSON.stringify(files[CONFIG_FILES.config]);
}

/** The inline config file of an attempt (renderPod puts it in the annotation). */
export function inlineConfigText(input: AttemptInput): string {
  return inlineText(resolveAll(input).files);
}

/**
 * Renders the attempt's config Secret, or the problems that prevent it. Throws a
 * TerminalError when the step is paired but no target plugin was given.
 */
export function renderAttemptConfig(input: AttemptInput): AttemptConfig {
  const { files, problems } = resolveAll(input);
  if (problems.length > 0) return { problems };
  if (input.inlineConfig) return { inline: inlineText(files) };
  const namespace = namespaceOf(input.pipeline);
  return {
    secret: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: input.secretName,
        ...(namespace ? { namespace } : {}),
        labels: attemptLabels(input),
        ownerReferences: [ownerReference(input.pipeline)],
      },
      type: 'Opaque',
      immutable: true,
      data: Object.fromEntries(Object.entries(files).map(([k, v]) => [k, encode(v)])),
    },
  };
}
