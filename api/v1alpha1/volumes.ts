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

/** The same test as the CEL rule: MOUNT_PATH already keeps paths in normal form. */
export function isReservedMountPath(path: string): boolean {
  return RESERVED_MOUNT_PATHS.some((r) => path === r || path.startsWith(`${r}/`));
}

/**
 * A path inside a volume: relative, segments without spaces or colons, none of them `..`
 * (a regular expression rather than a CEL rule: the apiserver's cost budget for rules over
 * lists of paths is small).
 */
const SEGMENT = String.raw`(?:[^./\s:][^/\s:]*|\.[^./\s:][^/\s:]*|\.|\.\.[^/\s:]+)`;
export const RELATIVE_PATH = new RegExp(`^${SEGMENT}(?:/${SEGMENT})*$`);

/** An absolute path in normal form: no empty, `.` or `..` segments, no trailing slash. */
const ABSOLUTE_SEGMENT = String.raw`(?:[^./\s:][^/\s:]*|\.[^./\s:][^/\s:]*|\.\.[^/\s:]+)`;
export const MOUNT_PATH = new RegExp(`^(?:/${ABSOLUTE_SEGMENT})+$`);

const RelativePath = z
  .string()
  .min(1)
  .max(256)
  .regex(RELATIVE_PATH, 'must be a relative path without spaces, colons, empty or .. segments');

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
    items: z
      .array(
        z.strictObject({
          key: z
            .string()
            .min(1)
            .max(253)
            .regex(/^[-._a-zA-Z0-9]+$/, 'must be a valid ConfigMap key')
            .meta({ description: 'Key of the ConfigMap.' }),
          path: RelativePath.meta({
            description: 'File the key becomes, relative to the mount (may have directories).',
          }),
        }),
      )
      .max(128)
      .optional()
      .meta({
        description:
          'Only these keys, each at its own path (a dbt project: models/orders.sql); every key at the top when unset.',
      }),
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
      .regex(
        MOUNT_PATH,
        'must be an absolute path without spaces, colons, empty, . or .. segments or a trailing slash',
      )
      .meta({ description: 'Where the container sees it; not /, /tmp or under /flexcore.' }),
    subPath: RelativePath.optional().meta({
      description: 'A directory inside the volume to mount instead of its root.',
    }),
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
