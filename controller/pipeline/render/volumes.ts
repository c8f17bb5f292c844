/** The volumes of an attempt Pod and where each container mounts them. */
import type { V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { ContainerPlan } from './container-plan.js';
import { INLINE_CONFIG_ANNOTATION } from './config-carrier.js';
import { CONFIG_DIR, CONFIG_FILES, PIPE_DIR, SCRATCH_DIR, VOLUMES } from './layout.js';
import type { Resources } from './resources.js';
import { writablePathsOf } from './sandbox.js';
import { renderUserVolume, userVolumeMount } from './user-volumes.js';

/**
 * 0440 is what the kubelet leaves anyway once fsGroup applies (it adds group read to
 * read-only volumes and chowns them to root:fsGroup); 0400 alone would keep the root-owned
 * files unreadable to the non-root plugin if fsGroup were ever dropped.
 */
export const CONFIG_FILE_MODE = 0o440;

/** Room for the FIFO only: the stream passes through the kernel, not the disk. */
export const PIPE_SIZE_LIMIT = '1Mi';

/** A planned container with its merged resources. */
export interface SizedContainer {
  readonly plan: ContainerPlan;
  readonly resources: Resources;
}

/** A writable directory of one container: the emptyDir name and its mount path. */
export interface WritableDir {
  readonly volume: string;
  readonly path: string;
}

/** The container's extra writable directories, one emptyDir each. */
export function writableDirs(plan: ContainerPlan): WritableDir[] {
  return writablePathsOf(plan.plugin).map((path, i) => ({ volume: `${plan.name}-writable-${i}`, path }));
}

/** Where the config files come from: the attempt's Secret, or (inline) the Pod's annotation. */
export type ConfigSource = { readonly secretName: string } | { readonly inline: true };

function configVolume(plan: ContainerPlan, source: ConfigSource): V1Volume {
  if ('inline' in source) {
    const fieldPath = `metadata.annotations['${INLINE_CONFIG_ANNOTATION}']`;
    return {
      name: plan.configVolume,
      downwardAPI: {
        defaultMode: CONFIG_FILE_MODE,
        items: [{ path: plan.configFile, fieldRef: { fieldPath } }],
      },
    };
  }
  const { secretName } = source;
  const files = [
    plan.configFile,
    ...(plan.state ? [CONFIG_FILES.state] : []),
    ...(plan.catalog ? [CONFIG_FILES.catalog] : []),
  ];
  return {
    name: plan.configVolume,
    secret: { secretName, defaultMode: CONFIG_FILE_MODE, items: files.map((f) => ({ key: f, path: f })) },
  };
}

/**
 * All volumes: scratch for /tmp (shared by a pair), each container's config projection,
 * writable directories and user volumes, and the pipe of a pair. `sizeLimit` is the container's
 * ephemeral-storage limit, so one directory cannot take more than the container may.
 */
export function renderVolumes(containers: readonly SizedContainer[], source: ConfigSource): V1Volume[] {
  const storage = (c: SizedContainer | undefined): string | undefined =>
    c?.resources.limits['ephemeral-storage'];
  const scratch: V1Volume = { name: VOLUMES.scratch, emptyDir: { sizeLimit: storage(containers[0]) } };
  const perContainer = containers.flatMap((c) => [
    configVolume(c.plan, source),
    ...writableDirs(c.plan).map((d) => ({ name: d.volume, emptyDir: { sizeLimit: storage(c) } })),
    ...c.plan.volumes.map((v) => renderUserVolume(c.plan.name, v)),
  ]);
  const paired = containers.some((c) => c.plan.paired);
  const pipe = paired ? [{ name: VOLUMES.pipe, emptyDir: { sizeLimit: PIPE_SIZE_LIMIT } }] : [];
  return [scratch, ...perContainer, ...pipe];
}

/** Where one container mounts its volumes. */
export function volumeMounts(plan: ContainerPlan): V1VolumeMount[] {
  return [
    { name: VOLUMES.scratch, mountPath: SCRATCH_DIR },
    { name: plan.configVolume, mountPath: CONFIG_DIR, readOnly: true },
    ...writableDirs(plan).map((d) => ({ name: d.volume, mountPath: d.path })),
    ...(plan.paired ? [{ name: VOLUMES.pipe, mountPath: PIPE_DIR }] : []),
    ...plan.volumes.map((v) => userVolumeMount(plan.name, v)),
  ];
}
