/** Shapes shared by FlexPlugin and FlexPipeline. */
import { z } from 'zod';
import { DNS_SUBDOMAIN, listMap, listSet, quantity, stringMap, withRules } from './kube.js';

export const GROUP = 'flexcore.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Upper bounds shared by schema and CEL; they also keep CEL cost estimates within budget. */
export const LIMITS = {
  maxRetries: 10,
  maxTimeoutSeconds: 7 * 24 * 3600,
  maxBackoffSeconds: 24 * 3600,
  maxSteps: 50,
  maxDependsOn: 20,
  maxNameLength: 63,
  maxStepNameLength: 40,
} as const;

const resourceNames = ['cpu', 'memory', 'ephemeral-storage'] as const;

function resourceList(description: string): z.ZodType {
  return z
    .strictObject(
      Object.fromEntries(
        resourceNames.map((n) => [n, quantity(`Amount of ${n}, as a Kubernetes quantity.`).optional()]),
      ),
    )
    .meta({ description });
}

export const ResourceRequirements = z
  .strictObject({
    requests: resourceList('Minimum resources the scheduler reserves for the container.').optional(),
    limits: resourceList('Maximum resources the container may use; exceeding memory kills it.').optional(),
  })
  .meta({
    description:
      'Compute resources for the step container. FlexCore always sets requests and limits; values here replace its defaults field by field.',
  });
export type ResourceRequirements = z.infer<typeof ResourceRequirements>;

const Backoff = withRules(
  z.strictObject({
    initialSeconds: z
      .int()
      .min(1)
      .max(LIMITS.maxBackoffSeconds)
      .default(10)
      .meta({ description: 'Delay before the first retry, in seconds.' }),
    maxSeconds: z
      .int()
      .min(1)
      .max(LIMITS.maxBackoffSeconds)
      .default(600)
      .meta({ description: 'Upper bound of the delay between retries, in seconds.' }),
    factor: z
      .int()
      .min(1)
      .max(10)
      .default(2)
      .meta({ description: 'Multiplier applied to the delay after each attempt (exponential backoff).' }),
  }),
  'Exponential backoff between attempts; a random jitter of up to 20% is added to every delay.',
  [
    {
      cel: 'self.initialSeconds <= self.maxSeconds',
      message: 'initialSeconds must not exceed maxSeconds',
      fieldPath: '.initialSeconds',
      check: (b) => b.initialSeconds <= b.maxSeconds,
    },
  ],
);

export const RetryPolicy = z
  .strictObject({
    limit: z
      .int()
      .min(0)
      .max(LIMITS.maxRetries)
      .default(0)
      .meta({ description: `How many times a failed attempt is retried (0 to ${LIMITS.maxRetries}).` }),
    backoff: Backoff.optional(),
    retryableExitCodes: listSet(
      z.int().min(1).max(255),
      'Exit codes that may be retried. When set, any other exit code fails the step at once; when unset, every failure is retryable.',
      32,
    ).optional(),
  })
  .meta({ description: 'When and how often a failed step is run again.' });
export type RetryPolicy = z.infer<typeof RetryPolicy>;

export const TimeoutSeconds = z
  .int()
  .min(1)
  .max(LIMITS.maxTimeoutSeconds)
  .meta({
    description: `Maximum run time of one attempt in seconds (1 to ${LIMITS.maxTimeoutSeconds}); the Pod is stopped when it is exceeded.`,
  });

export const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
export const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export const PodMetadata = withRules(
  z.strictObject({
    labels: stringMap(
      z.string().max(253).regex(LABEL_KEY, 'must be a valid label key'),
      z.string().max(63).regex(LABEL_VALUE, 'must be a valid label value'),
      'Labels added to the step Pods.',
      64,
    ).optional(),
    annotations: stringMap(
      z.string().max(253).regex(LABEL_KEY, 'must be a valid annotation key'),
      z.string().max(64 * 1024),
      'Annotations added to the step Pods.',
      64,
    ).optional(),
  }),
  'Labels and annotations passed through to the step Pods. Keys under flexcore.io/ are reserved.',
  [
    {
      cel: "!has(self.labels) || self.labels.all(k, !k.startsWith('flexcore.io/'))",
      message: 'label keys under flexcore.io/ are reserved',
      fieldPath: '.labels',
      check: (m) => Object.keys(m.labels ?? {}).every((k) => !k.startsWith('flexcore.io/')),
    },
    {
      cel: `!has(self.labels) || self.labels.all(k, k.matches('${LABEL_KEY.source.replace(/\\/g, '\\\\')}'))`,
      message: 'label keys must be valid Kubernetes label keys (an optional DNS prefix and /, then a name)',
      fieldPath: '.labels',
      check: (m) => Object.keys(m.labels ?? {}).every((k) => LABEL_KEY.test(k)),
    },
    {
      cel: `!has(self.annotations) || self.annotations.all(k, k.matches('${LABEL_KEY.source.replace(/\\/g, '\\\\')}'))`,
      message:
        'annotation keys must be valid Kubernetes annotation keys (an optional DNS prefix and /, then a name)',
      fieldPath: '.annotations',
      check: (m) => Object.keys(m.annotations ?? {}).every((k) => LABEL_KEY.test(k)),
    },
  ],
);
export type PodMetadata = z.infer<typeof PodMetadata>;

export const EnvVar = z.strictObject({
  name: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a valid environment variable name')
    .meta({ description: 'Environment variable name.' }),
  value: z.string().meta({
    description: 'Plain value. Never put secrets here: use a secret setting and configFrom instead.',
  }),
});
export type EnvVar = z.infer<typeof EnvVar>;

export const EnvList = listMap(
  EnvVar,
  'name',
  'Extra environment variables for the plugin container (plain values only).',
  64,
);

/** A reference to an object in the same namespace. */
export const LocalName = z
  .string()
  .min(1)
  .max(253)
  .regex(DNS_SUBDOMAIN, 'must be a lower-case DNS subdomain name');

export const ConditionStatus = z.enum(['True', 'False', 'Unknown']);

export const Condition = z
  .object({
    type: z.string().meta({ description: 'Type of condition, e.g. Ready.' }),
    status: ConditionStatus.meta({ description: 'True, False or Unknown.' }),
    observedGeneration: z
      .int()
      .optional()
      .meta({ description: 'The metadata.generation this condition was computed from.' }),
    lastTransitionTime: z.string().meta({ description: 'When the status last changed (RFC 3339).' }),
    reason: z.string().meta({ description: 'Machine-readable CamelCase reason for the last transition.' }),
    message: z.string().meta({ description: 'Human-readable detail about the last transition.' }),
  })
  .meta({ description: 'One observation of the state of the object, in the standard Kubernetes form.' });
export type Condition = z.infer<typeof Condition>;

/** The metadata.generation a status was computed from. */
export const ObservedGeneration = z
  .int()
  .meta({ description: 'The metadata.generation the status describes.' });

export const Conditions = listMap(Condition, 'type', 'Current conditions of the object.', 16);

/** The object metadata fields `flexcore validate` checks; the apiserver owns the rest. */
export const ObjectMeta = withRules(
  z.looseObject({
    name: z
      .string()
      .min(1)
      .max(LIMITS.maxNameLength)
      .regex(DNS_SUBDOMAIN, 'must be a lower-case DNS subdomain name')
      .optional()
      .meta({ description: 'Name of the object, unique in its namespace.' }),
    generateName: z
      .string()
      .max(LIMITS.maxNameLength - 5)
      .optional()
      .meta({ description: 'Prefix from which the apiserver makes a unique name when name is unset.' }),
    namespace: z.string().optional().meta({ description: 'Namespace of the object.' }),
  }),
  'Standard object metadata.',
  [
    {
      // The apiserver owns metadata; this mirrors its own "name or generateName is required".
      message: 'required field is missing',
      fieldPath: '.name',
      check: (m) => m.name !== undefined || m.generateName !== undefined,
    },
  ],
);
