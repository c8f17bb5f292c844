/**
 * Volumes a plugin container mounts besides FlexCore's own: a PersistentVolumeClaim for output
 * that must outlive the Pod (target-jsonl's files, dbt artifacts) or a ConfigMap for input (a
 * dbt project, a catalog). Only kinds Pod Security "restricted" allows; never a hostPath.
 * They sit in a FlexPlugin's `defaults`, on a step and on a step's Singer target; a step's
 * entry replaces the plugin's entry of the same name.
 */
import { z } from 'zod';
import { LocalName } from './common.js';
import { DNS_LABEL, DNS_SUBDOMAIN, listMap, withRules } from './kube.js';

/** Mount paths FlexCore owns: the scratch /tmp, the config and pipe mounts under /flexcore. */
export const RESERVED_MOUNT_PATHS = ['/tmp', '/flexcore'] as const;

const MOUNT_PATH = /^\/[^\s:]*$/;

export function isReservedMountPath(path: string): boolean {
  const p = path.replace(/\/+$/, '') || '/';
  return p === '/' || RESERVED_MOUNT_PATHS.some((r) => p === r || p.startsWith(`${r}/`));
}

const PersistentVolumeClaimSource = z
  .strictObject({
    claimName: z
      .string()
      .min(1)
      .max(253)
      .regex(DNS_SUBDOMAIN, 'must be a lower-case DNS subdomain name')
      .meta({ description: 'Name of a PersistentVolumeClaim in the namespace of the pipeline.' }),
  })
  .meta({ description: 'Mount a PersistentVolumeClaim: data that outlives the Pod.' });

const ConfigMapSource = z
  .strictObject({
    name: LocalName.meta({ description: 'Name of a ConfigMap in the namespace of the pipeline.' }),
    optional: z
      .boolean()
      .optional()
      .meta({ description: 'Start even when the ConfigMap does not exist (an empty directory).' }),
  })
  .meta({ description: 'Mount a ConfigMap read-only, one file per key.' });

export const PluginVolume = withRules(
  z.strictObject({
    name: z
      .string()
      .min(1)
      .max(40)
      .regex(DNS_LABEL, 'must be a lower-case DNS label')
      .meta({ description: 'Name of the volume, unique in the list (at most 40 characters).' }),
    mountPath: z
      .string()
      .min(2)
      .max(256)
      .regex(MOUNT_PATH, 'must be an absolute path without spaces or colons')
      .meta({ description: 'Where the container sees it; not /, /tmp or under /flexcore.' }),
    subPath: z
      .string()
      .min(1)
      .max(256)
      .regex(/^[^/\s:][^\s:]*$/, 'must be a relative path without spaces or colons')
      .optional()
      .meta({ description: 'A directory inside the volume to mount instead of its root.' }),
    readOnly: z.boolean().optional().meta({ description: 'Mount read-only (ConfigMaps always are).' }),
    persistentVolumeClaim: PersistentVolumeClaimSource.optional(),
    configMap: ConfigMapSource.optional(),
  }),
  'A volume the plugin container mounts: exactly one of persistentVolumeClaim or configMap.',
  [
    {
      cel: 'has(self.persistentVolumeClaim) != has(self.configMap)',
      message: 'set exactly one of persistentVolumeClaim or configMap',
      check: (v) => (v.persistentVolumeClaim !== undefined) !== (v.configMap !== undefined),
    },
    {
      cel: "!has(self.subPath) || !self.subPath.split('/').exists(p, p == '..')",
      message: 'subPath must not contain ..',
      fieldPath: '.subPath',
      check: (v) => !(v.subPath ?? '').split('/').includes('..'),
    },
    {
      cel: "self.mountPath != '/tmp' && !self.mountPath.startsWith('/tmp/') && self.mountPath != '/flexcore' && !self.mountPath.startsWith('/flexcore/')",
      message: 'mountPath must not be /tmp or /flexcore or below them: FlexCore mounts its own volumes there',
      fieldPath: '.mountPath',
      check: (v) => !isReservedMountPath(v.mountPath),
    },
  ],
);
export type PluginVolume = z.infer<typeof PluginVolume>;

export const PluginVolumes = withRules(
  listMap(PluginVolume, 'name', 'Volumes the plugin container mounts besides FlexCore’s own.', 16),
  'Volumes the plugin container mounts besides FlexCore’s own.',
  [
    {
      cel: 'self.all(a, self.exists_one(b, b.mountPath == a.mountPath))',
      message: 'each volume needs a mountPath of its own',
      check: (list) => new Set(list.map((v) => v.mountPath)).size === list.length,
    },
  ],
);
