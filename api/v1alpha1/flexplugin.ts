/** FlexPlugin: what a plugin is and how it may run. */
import { isIP } from 'node:net';
import { z } from 'zod';
import {
  API_VERSION,
  Conditions,
  ObservedGeneration,
  EnvList,
  ObjectMeta,
  PodMetadata,
  ResourceRequirements,
  RetryPolicy,
  TimeoutSeconds,
} from './common.js';
import { CatalogRules } from './catalog.js';
import { listMap, listSet, withRules } from './kube.js';
import { ImagePullPolicy, PodPlacementFields, SERVICE_ACCOUNT_RULE } from './scheduling.js';
import { PluginVolumes } from './volumes.js';

export const PLUGIN_KIND = 'FlexPlugin';

export const PluginType = z.enum(['tap', 'target', 'transformer', 'utility']).meta({
  description:
    'What the plugin does: a Singer tap (extracts), a Singer target (loads), a transformer (e.g. dbt) or a utility.',
});
export type PluginType = z.infer<typeof PluginType>;

export const Protocol = z.enum(['singer', 'plain']).meta({
  description:
    'How FlexCore talks to the plugin. singer: config, catalog and state files and a Singer message stream; plain: the command runs as given. Defaults to singer for taps and targets and plain otherwise.',
});
export type Protocol = z.infer<typeof Protocol>;

export const SingerCapability = z
  .enum(['catalog', 'discover', 'state', 'properties'])
  .meta({ description: 'A Singer capability the plugin declares.' });

export const SettingKind = z
  .enum(['string', 'integer', 'number', 'boolean', 'object', 'array', 'password'])
  .meta({
    description:
      'JSON type of the setting value; used to check step config. password is a string that is secret (see secret).',
  });
export type SettingKind = z.infer<typeof SettingKind>;

export const Setting = withRules(
  z.strictObject({
    name: z
      .string()
      .min(1)
      .max(128)
      .regex(
        /^[A-Za-z_][A-Za-z0-9_.-]*$/,
        'must start with a letter or _ and contain only letters, digits, _, . and -',
      )
      .meta({ description: 'Key of the setting in the plugin config file.' }),
    kind: SettingKind.default('string'),
    description: z.string().max(1024).optional().meta({ description: 'What the setting means, for humans.' }),
    required: z
      .boolean()
      .default(false)
      .meta({ description: 'A step must provide a value (in config or configFrom).' }),
    // No default, so an explicit false can be told apart: the password rule below refuses it.
    secret: z.boolean().optional().meta({
      description:
        'The value is sensitive: it may only come from a Secret (configFrom), is mounted as a file and never appears in status, events or logs. Always true for kind password.',
    }),
    default: z.unknown().optional().meta({
      description: 'Value used when a step does not set one.',
      'x-kubernetes-preserve-unknown-fields': true,
    }),
  }),
  'One configuration setting the plugin accepts.',
  [
    {
      // No CEL: `default` is schemaless, and CEL cannot see schemaless fields.
      message: 'default does not match the setting kind',
      fieldPath: '.default',
      check: (s) => s.default === undefined || s.default === null || matchesKind(s.default, s.kind),
    },
    {
      // No CEL: `default` is schemaless, and CEL cannot see schemaless fields.
      message: 'a secret setting cannot have a default value',
      fieldPath: '.default',
      reason: 'FieldValueForbidden',
      check: (s) => !(isSecretSetting(s) && s.default !== undefined),
    },
    {
      // Refused rather than ignored: the manifest says two things, and no reader should have to
      // know which one wins.
      cel: "!(has(self.secret) && !self.secret && has(self.kind) && self.kind == 'password')",
      message: 'a password setting is always secret; leave out secret: false',
      fieldPath: '.secret',
      check: (s) => !(s.secret === false && s.kind === 'password'),
    },
  ],
);
export type Setting = z.infer<typeof Setting>;

/**
 * True when the setting's value is sensitive: kind password, or marked secret. The one place
 * that decides it, so every check that keeps values out of sight asks the same question.
 */
export function isSecretSetting(s: { readonly kind?: SettingKind; readonly secret?: boolean }): boolean {
  return s.kind === 'password' || s.secret === true;
}

/** True when a JSON value has the JSON type a setting kind names. */
export function matchesKind(value: unknown, kind: SettingKind): boolean {
  switch (kind) {
    case 'string':
    case 'password':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value);
  }
}

/** The Singer arguments FlexCore passes itself. */
export const SINGER_FLAGS: readonly string[] = [
  '--config',
  '--state',
  '--catalog',
  '--properties',
  '--discover',
];

const CIDR_SHAPE = /^[0-9a-fA-F.:]+\/[0-9]{1,3}$/;

/** True for an IPv4 or IPv6 network in CIDR notation with a prefix length that fits it. */
function isCidr(value: string): boolean {
  const [address = '', prefix = ''] = value.split('/');
  const family = isIP(address);
  const bits = Number(prefix);
  return family !== 0 && Number.isInteger(bits) && bits >= 0 && bits <= (family === 4 ? 32 : 128);
}

export const EgressRule = withRules(
  z.strictObject({
    cidr: z
      .string()
      .max(64)
      .regex(CIDR_SHAPE, 'must be a CIDR such as 10.0.0.0/8')
      .meta({ description: 'Destination network in CIDR notation.' }),
    ports: z
      .array(
        z.strictObject({
          port: z.int().min(1).max(65535).meta({ description: 'Destination port.' }),
          protocol: z.enum(['TCP', 'UDP', 'SCTP']).default('TCP').meta({ description: 'IP protocol.' }),
        }),
      )
      .max(16)
      .optional()
      .meta({ description: 'Destination ports; all ports when empty.' }),
  }),
  'One destination the plugin may connect to.',
  [
    {
      cel: 'isCIDR(self.cidr)',
      message: 'cidr must be a valid IPv4 or IPv6 network such as 10.0.0.0/8',
      fieldPath: '.cidr',
      check: (r) => isCidr(r.cidr),
    },
  ],
);
export type EgressRule = z.infer<typeof EgressRule>;

export const Sandbox = z
  .strictObject({
    egress: z.array(EgressRule).max(32).optional().meta({
      description:
        'Destinations the plugin may reach. Empty or unset means no network access at all: ingress is always denied.',
    }),
    allowDNS: z
      .boolean()
      .default(true)
      .meta({ description: 'Allow DNS lookups (UDP and TCP port 53) when egress is allowed.' }),
    writablePaths: listSet(
      z
        .string()
        .regex(/^\/[^\s]*$/, 'must be an absolute path')
        .max(256),
      'Extra writable directories (each an emptyDir); the root filesystem is read-only and /tmp is always writable.',
      16,
    ).optional(),
    runAsUser: z
      .int()
      .min(1)
      .max(2147483647)
      .default(65532)
      .meta({ description: 'Non-root user id the plugin runs as.' }),
  })
  .meta({
    description:
      'Isolation of the plugin Pods. Always on and compliant with Pod Security "restricted"; these fields only widen what the plugin may reach.',
  });
export type Sandbox = z.infer<typeof Sandbox>;

export const PluginDefaults = withRules(
  z.strictObject({
    resources: ResourceRequirements.optional(),
    timeoutSeconds: TimeoutSeconds.optional(),
    retries: RetryPolicy.optional(),
    ...PodPlacementFields,
    volumes: PluginVolumes.optional(),
  }),
  'Defaults for every step that runs this plugin; a step may override each one.',
  [SERVICE_ACCOUNT_RULE],
);

export const FlexPluginSpec = withRules(
  z.strictObject({
    type: PluginType,
    protocol: Protocol.optional(),
    image: z
      .string()
      .min(1)
      .max(512)
      .regex(/^\S+$/, 'must be an image reference without spaces')
      .meta({ description: 'Container image, preferably pinned by digest.' }),
    imagePullPolicy: ImagePullPolicy.optional(),
    command: z
      .array(z.string())
      .max(64)
      .optional()
      .meta({ description: 'Entrypoint; the image default when unset.' }),
    args: z
      .array(z.string())
      .max(256)
      .optional()
      .meta({ description: 'Arguments placed before the Singer arguments.' }),
    env: EnvList.optional(),
    capabilities: listSet(SingerCapability, 'Singer capabilities the plugin supports.', 4).optional(),
    settings: listMap(
      Setting,
      'name',
      'Settings the plugin accepts; step config is checked against them.',
      256,
    ).optional(),
    catalog: CatalogRules.optional().meta({
      description:
        'Default Singer catalog rules for every step that runs this tap (select, metadata, schema); a step may override them.',
    }),
    defaults: PluginDefaults.optional(),
    sandbox: Sandbox.optional(),
    podMetadata: PodMetadata.optional(),
  }),
  'Desired state of the plugin.',
  [
    {
      cel: "!has(self.protocol) || self.protocol == 'plain' || self.type in ['tap', 'target']",
      message: 'protocol singer is only for taps and targets',
      fieldPath: '.protocol',
      check: (s) => s.protocol !== 'singer' || s.type === 'tap' || s.type === 'target',
    },
    {
      cel: "!has(self.catalog) || self.type == 'tap'",
      message: 'catalog rules are only for taps',
      fieldPath: '.catalog',
      check: (s) => s.catalog === undefined || s.type === 'tap',
    },
    {
      cel: `!has(self.args) || (has(self.protocol) && self.protocol == 'plain') || !(self.type in ['tap', 'target']) || !self.args.exists(a, a in ${JSON.stringify(SINGER_FLAGS)})`,
      message: `FlexCore passes ${SINGER_FLAGS.join(', ')} to Singer plugins itself; leave them out of args`,
      fieldPath: '.args',
      check: (s): boolean =>
        s.protocol === 'plain' ||
        !(s.type === 'tap' || s.type === 'target') ||
        !(s.args ?? []).some((a: string) => SINGER_FLAGS.includes(a)),
    },
    {
      cel: "!has(self.capabilities) || size(self.capabilities) == 0 || self.type in ['tap', 'target']",
      message: 'Singer capabilities are only for taps and targets',
      fieldPath: '.capabilities',
      check: (s) => (s.capabilities ?? []).length === 0 || s.type === 'tap' || s.type === 'target',
    },
  ],
);
export type FlexPluginSpec = z.infer<typeof FlexPluginSpec>;

export const FlexPluginStatus = z
  .object({
    observedGeneration: ObservedGeneration.optional(),
    conditions: Conditions.optional(),
  })
  .meta({ description: 'Observed state of the plugin, written by the controller.' });
export type FlexPluginStatus = z.infer<typeof FlexPluginStatus>;

export const FlexPlugin = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(PLUGIN_KIND),
  metadata: ObjectMeta,
  spec: FlexPluginSpec,
  status: FlexPluginStatus.optional(),
});
export type FlexPlugin = z.infer<typeof FlexPlugin>;

/** The protocol a plugin speaks, with the documented default applied. */
export function effectiveProtocol(spec: Pick<FlexPluginSpec, 'type' | 'protocol'>): Protocol {
  return spec.protocol ?? (spec.type === 'tap' || spec.type === 'target' ? 'singer' : 'plain');
}
