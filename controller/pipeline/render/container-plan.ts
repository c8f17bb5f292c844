/** Which containers a step attempt runs and what each is made of. */
import type { FlexPlugin, PluginVolume, ResourceRequirements } from '../../../api/v1alpha1/index.js';
import { effectiveProtocol } from '../../../api/v1alpha1/index.js';
import { TerminalError } from '../../reconcile/errors.js';
import type { AttemptInput } from './attempt-input.js';
import type { ContainerName } from './layout.js';
import { CONFIG_FILES, CONTAINERS, VOLUMES } from './layout.js';
import { mergeVolumes } from './user-volumes.js';

/** One container of the attempt Pod, before it is rendered. */
export interface ContainerPlan {
  readonly name: ContainerName;
  readonly plugin: FlexPlugin;
  /** The Secret key (and file name) of this container's config. */
  readonly configFile: string;
  /** The Secret volume this container mounts: only its own files are projected into it. */
  readonly configVolume: string;
  /** Resource layers over FlexCore's defaults, least specific first. */
  readonly resources: readonly (ResourceRequirements | undefined)[];
  /** The Singer role, or undefined for protocol plain. */
  readonly singer?: 'tap' | 'target';
  /** True for the two sides of a Singer pair (wrapped, joined by the FIFO). */
  readonly paired: boolean;
  /** True when the state file is passed (`--state`). */
  readonly state: boolean;
  /** The flag that passes the catalog file, when the tap gets one. */
  readonly catalog?: '--catalog' | '--properties';
  /** A discovery attempt's only container: the tap with --discover behind the discovery wrapper. */
  readonly discover?: boolean;
  /** The user's volumes this container mounts (plugin defaults, then the step's). */
  readonly volumes: readonly PluginVolume[];
}

function pairPlans(input: AttemptInput, target: FlexPlugin): ContainerPlan[] {
  return [
    {
      name: CONTAINERS.tap,
      plugin: input.plugin,
      configFile: CONFIG_FILES.config,
      configVolume: VOLUMES.config,
      resources: [input.plugin.spec.defaults?.resources, input.step.resources],
      singer: 'tap',
      paired: true,
      state: input.singerState !== undefined,
      ...(input.catalog && { catalog: input.catalog.flag }),
      volumes: mergeVolumes(input.plugin.spec.defaults?.volumes, input.step.volumes),
    },
    {
      name: CONTAINERS.target,
      plugin: target,
      configFile: CONFIG_FILES.targetConfig,
      configVolume: VOLUMES.targetConfig,
      resources: [target.spec.defaults?.resources],
      singer: 'target',
      paired: true,
      state: false,
      volumes: mergeVolumes(target.spec.defaults?.volumes, input.step.target?.volumes),
    },
  ];
}

function singlePlan(input: AttemptInput): ContainerPlan {
  const spec = input.plugin.spec;
  const singer = effectiveProtocol(spec) === 'singer' ? (spec.type === 'tap' ? 'tap' : 'target') : undefined;
  return {
    name: CONTAINERS.plugin,
    plugin: input.plugin,
    configFile: CONFIG_FILES.config,
    configVolume: VOLUMES.config,
    resources: [spec.defaults?.resources, input.step.resources],
    ...(singer ? { singer } : {}),
    paired: false,
    state: singer === 'tap' && input.singerState !== undefined,
    ...(singer === 'tap' && input.catalog && { catalog: input.catalog.flag }),
    volumes: mergeVolumes(spec.defaults?.volumes, input.step.volumes),
  };
}

function discoveryPlan(input: AttemptInput): ContainerPlan {
  const spec = input.plugin.spec;
  return {
    name: CONTAINERS.discover,
    plugin: input.plugin,
    configFile: CONFIG_FILES.config,
    configVolume: VOLUMES.config,
    resources: [spec.defaults?.resources, input.step.resources],
    singer: 'tap',
    paired: false,
    state: false,
    discover: true,
    volumes: mergeVolumes(spec.defaults?.volumes, input.step.volumes),
  };
}

/** The containers of the attempt: `plugin`, `tap` and `target` for a Singer pair, or `discover`. */
export function planContainers(input: AttemptInput): ContainerPlan[] {
  if (input.discover) return [discoveryPlan(input)];
  if (input.step.target === undefined) return [singlePlan(input)];
  if (input.targetPlugin === undefined)
    throw new TerminalError(
      `step ${input.step.name} names a target but no target plugin was given`,
      'RenderFailed',
    );
  return pairPlans(input, input.targetPlugin);
}
