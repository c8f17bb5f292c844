/**
 * The volumes a user mounts into a plugin container (pure): a step's entries over its plugin's
 * defaults, by name; rendered as Pod volumes named after the container, so the two sides of a
 * Singer pair never clash. A mount path that is also one of the plugin's writablePaths would
 * give the container two mounts at one place: a config problem, not a Pod the apiserver refuses.
 */
import type { V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { FlexPlugin, PluginVolume } from '../../../api/v1alpha1/index.js';
import type { AttemptInput } from './attempt-input.js';
import type { ConfigProblem } from './config-problem.js';
import { writablePathsOf } from './sandbox.js';

/** The plugin's default volumes with `overrides` replacing entries of the same name. */
export function mergeVolumes(
  defaults: readonly PluginVolume[] | undefined,
  overrides: readonly PluginVolume[] | undefined,
): PluginVolume[] {
  const byName = new Map<string, PluginVolume>();
  for (const v of [...(defaults ?? []), ...(overrides ?? [])]) byName.set(v.name, v);
  return [...byName.values()];
}

/** The Pod volume name of user volume `volume` of `container`. */
export function podVolumeName(container: string, volume: PluginVolume): string {
  return `${container}-v-${volume.name}`;
}

export function renderUserVolume(container: string, volume: PluginVolume): V1Volume {
  const name = podVolumeName(container, volume);
  if (volume.persistentVolumeClaim) {
    const { claimName } = volume.persistentVolumeClaim;
    return { name, persistentVolumeClaim: { claimName, ...(volume.readOnly ? { readOnly: true } : {}) } };
  }
  const cm = volume.configMap!;
  return {
    name,
    configMap: {
      name: cm.name,
      ...(cm.optional !== undefined ? { optional: cm.optional } : {}),
      ...(cm.items ? { items: cm.items.map((i) => ({ key: i.key, path: i.path })) } : {}),
    },
  };
}

export function userVolumeMount(container: string, volume: PluginVolume): V1VolumeMount {
  return {
    name: podVolumeName(container, volume),
    mountPath: volume.mountPath,
    ...(volume.subPath ? { subPath: volume.subPath } : {}),
    ...(volume.readOnly || volume.configMap ? { readOnly: true } : {}),
  };
}

/**
 * Mount paths one container would get twice: a volume on one of the plugin's writablePaths, or
 * two volumes (a plugin default and a step entry of another name) at one path.
 */
function conflicts(
  plugin: FlexPlugin,
  volumes: readonly PluginVolume[],
  part: 'step' | 'target',
): ConfigProblem[] {
  const writable = new Set(writablePathsOf(plugin));
  const name = plugin.metadata.name ?? '';
  const problem = (message: string): ConfigProblem => ({
    reason: 'VolumeConflict',
    message,
    part,
    plugin: name,
  });
  const seen = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  for (const v of volumes) {
    const path = v.mountPath.replace(/\/+$/, '');
    if (writable.has(path)) {
      problems.push(
        problem(
          `volume "${v.name}" mounts at ${v.mountPath}, which plugin "${name}" already lists in sandbox.writablePaths; choose another mountPath`,
        ),
      );
    }
    const other = seen.get(path);
    if (other !== undefined) {
      problems.push(
        problem(
          `volumes "${other}" and "${v.name}" of plugin "${name}" both mount at ${v.mountPath}; give one another mountPath`,
        ),
      );
    }
    seen.set(path, v.name);
  }
  return problems;
}

/** Volumes that cannot be mounted as asked. */
export function volumeProblems(input: AttemptInput): ConfigProblem[] {
  const own = mergeVolumes(input.plugin.spec.defaults?.volumes, input.step.volumes);
  const problems = conflicts(input.plugin, own, 'step');
  if (input.step.target && input.targetPlugin) {
    const target = mergeVolumes(input.targetPlugin.spec.defaults?.volumes, input.step.target.volumes);
    problems.push(...conflicts(input.targetPlugin, target, 'target'));
  }
  return problems;
}
