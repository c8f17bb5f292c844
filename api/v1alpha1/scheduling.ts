/**
 * Where and how a step's Pod is placed and pulled: node selection, tolerations, affinity, pull
 * secrets and policy, priority, runtime class (gVisor, Kata) and a service account whose token is
 * mounted only when asked. The same fields sit in a FlexPlugin's `defaults` and on a step; the
 * step's value of a field replaces the plugin's (pull secrets are joined). None of them can
 * weaken the sandbox: the Pod stays Pod Security "restricted".
 */
import { z } from 'zod';
import { LABEL_KEY, LABEL_VALUE, LocalName } from './common.js';
import { DNS_SUBDOMAIN, listMap, listSet, stringMap, withRules } from './kube.js';

const celPattern = (re: RegExp): string => re.source.replace(/\\/g, '\\\\');

const labelKey = z.string().max(253).regex(LABEL_KEY, 'must be a valid label key');
const labelValue = z.string().max(63).regex(LABEL_VALUE, 'must be a valid label value');

export const NodeSelector = withRules(
  stringMap(labelKey, labelValue, 'Node labels the step Pod must run on (all must match).', 32),
  'Node labels the step Pod must run on (all must match).',
  [
    {
      cel: `self.all(k, k.matches('${celPattern(LABEL_KEY)}'))`,
      message: 'keys must be valid Kubernetes label keys',
      check: (m) => Object.keys(m).every((k) => LABEL_KEY.test(k)),
    },
  ],
);

export const Toleration = withRules(
  z.strictObject({
    key: labelKey
      .optional()
      .meta({ description: 'Taint key to tolerate; empty with Exists tolerates every taint.' }),
    operator: z
      .enum(['Exists', 'Equal'])
      .optional()
      .meta({ description: 'Equal (the default) matches the value; Exists matches any value.' }),
    value: labelValue.optional().meta({ description: 'Taint value to match with Equal.' }),
    effect: z
      .enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'])
      .optional()
      .meta({ description: 'Taint effect to match; all effects when unset.' }),
    tolerationSeconds: z
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .optional()
      .meta({ description: 'With NoExecute: how long the Pod stays on a node after the taint appears.' }),
  }),
  'A taint the step Pod tolerates (as in a Pod spec).',
  [
    {
      cel: "!has(self.operator) || self.operator != 'Exists' || !has(self.value) || self.value == ''",
      message: 'value must be empty when operator is Exists',
      fieldPath: '.value',
      check: (t) => t.operator !== 'Exists' || !t.value,
    },
    {
      cel: "has(self.key) || (has(self.operator) && self.operator == 'Exists')",
      message: 'an empty key needs operator Exists',
      fieldPath: '.operator',
      check: (t) => !!t.key || t.operator === 'Exists',
    },
    {
      cel: "!has(self.tolerationSeconds) || (has(self.effect) && self.effect == 'NoExecute')",
      message: 'tolerationSeconds needs effect NoExecute',
      fieldPath: '.tolerationSeconds',
      check: (t) => t.tolerationSeconds === undefined || t.effect === 'NoExecute',
    },
  ],
);
export type Toleration = z.infer<typeof Toleration>;

const values = listSet(z.string().max(253), 'Values to compare with.', 64);

/** Exists and DoesNotExist take no values; the other operators need some (shared by node and label selectors). */
const VALUES_RULE = {
  cel: "self.operator in ['Exists', 'DoesNotExist'] ? (!has(self.values) || size(self.values) == 0) : (has(self.values) && size(self.values) > 0)",
  message: 'values must be empty for Exists and DoesNotExist, and given otherwise',
  fieldPath: '.values',
  check: (r: { operator: string; values?: string[] }): boolean =>
    ['Exists', 'DoesNotExist'].includes(r.operator) ? !r.values?.length : !!r.values?.length,
};

const NodeSelectorRequirement = withRules(
  z.strictObject({
    key: labelKey.meta({ description: 'Node label (or field) key.' }),
    operator: z
      .enum(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'])
      .meta({ description: 'How the key relates to the values.' }),
    values: values.optional(),
  }),
  'A node selector requirement.',
  [
    VALUES_RULE,
    {
      cel: "!(self.operator in ['Gt', 'Lt']) || (size(self.values) == 1 && self.values[0].matches('^-?[0-9]+$'))",
      message: 'Gt and Lt take exactly one integer value',
      fieldPath: '.values',
      check: (r) =>
        !['Gt', 'Lt'].includes(r.operator) || (r.values?.length === 1 && /^-?[0-9]+$/.test(r.values[0]!)),
    },
  ],
);

const NodeSelectorTerm = z
  .strictObject({
    matchExpressions: z
      .array(NodeSelectorRequirement)
      .max(16)
      .optional()
      .meta({ description: 'Requirements on node labels.' }),
    matchFields: z
      .array(NodeSelectorRequirement)
      .max(16)
      .optional()
      .meta({ description: 'Requirements on node fields.' }),
  })
  .meta({ description: 'Requirements that must all hold (terms are ORed).' });

const LabelSelectorRequirement = withRules(
  z.strictObject({
    key: labelKey.meta({ description: 'Label key.' }),
    operator: z
      .enum(['In', 'NotIn', 'Exists', 'DoesNotExist'])
      .meta({ description: 'How the key relates to the values.' }),
    values: values.optional(),
  }),
  'A label selector requirement.',
  [VALUES_RULE],
);

const LabelSelector = z
  .strictObject({
    matchLabels: stringMap(labelKey, labelValue, 'Labels that must all match.', 32).optional(),
    matchExpressions: z
      .array(LabelSelectorRequirement)
      .max(16)
      .optional()
      .meta({ description: 'Requirements that must all hold.' }),
  })
  .meta({ description: 'A label selector.' });

const PodAffinityTerm = z
  .strictObject({
    labelSelector: LabelSelector.optional(),
    namespaceSelector: LabelSelector.optional(),
    namespaces: listSet(
      z.string().max(63),
      'Namespaces the selector applies to (the Pod’s own when unset).',
      32,
    ).optional(),
    topologyKey: labelKey.meta({
      description: 'Node label whose value defines "the same place" (e.g. kubernetes.io/hostname).',
    }),
  })
  .meta({ description: 'Pods (by labels) near which this Pod should (or should not) run.' });

const weighted = <T extends z.ZodType>(field: string, term: T, what: string): z.ZodArray =>
  z
    .array(
      z.strictObject({
        weight: z.int().min(1).max(100).meta({ description: 'Weight of this preference (1 to 100).' }),
        [field]: term,
      }),
    )
    .max(16)
    .meta({ description: `Preferred ${what}: the scheduler favours nodes matching higher total weight.` });

const PodAffinity = (what: string): z.ZodType =>
  z
    .strictObject({
      requiredDuringSchedulingIgnoredDuringExecution: z
        .array(PodAffinityTerm)
        .max(16)
        .optional()
        .meta({ description: `Required ${what}: terms that must all hold when the Pod is scheduled.` }),
      preferredDuringSchedulingIgnoredDuringExecution: weighted(
        'podAffinityTerm',
        PodAffinityTerm,
        what,
      ).optional(),
    })
    .meta({ description: `Pod ${what}.` });

export const Affinity = z
  .strictObject({
    nodeAffinity: z
      .strictObject({
        requiredDuringSchedulingIgnoredDuringExecution: z
          .strictObject({
            nodeSelectorTerms: z.array(NodeSelectorTerm).min(1).max(16).meta({ description: 'Terms, ORed.' }),
          })
          .optional()
          .meta({ description: 'Nodes the Pod must run on.' }),
        preferredDuringSchedulingIgnoredDuringExecution: weighted(
          'preference',
          NodeSelectorTerm,
          'nodes',
        ).optional(),
      })
      .optional()
      .meta({ description: 'Node affinity.' }),
    podAffinity: PodAffinity('affinity').optional(),
    podAntiAffinity: PodAffinity('anti-affinity').optional(),
  })
  .meta({
    description: 'Scheduling constraints, as in a Pod spec (node and Pod affinity and anti-affinity).',
  });
export type Affinity = z.infer<typeof Affinity>;

export const ImagePullSecrets = listMap(
  z.strictObject({
    name: LocalName.meta({ description: 'Name of a Secret of type kubernetes.io/dockerconfigjson.' }),
  }),
  'name',
  'Secrets in the namespace used to pull the images; joined with the plugin’s.',
  16,
);

export const ImagePullPolicy = z
  .enum(['Always', 'IfNotPresent', 'Never'])
  .meta({ description: 'When the node pulls the image; Kubernetes default when unset.' });

const className = (description: string): z.ZodType<string> =>
  z
    .string()
    .min(1)
    .max(253)
    .regex(DNS_SUBDOMAIN, 'must be a lower-case DNS subdomain name')
    .meta({ description });

/** The placement fields, shared by FlexPlugin defaults and steps (spread into both objects). */
export const PodPlacementFields = {
  nodeSelector: NodeSelector.optional(),
  tolerations: z.array(Toleration).max(16).optional().meta({ description: 'Taints the step Pod tolerates.' }),
  affinity: Affinity.optional(),
  imagePullSecrets: ImagePullSecrets.optional(),
  priorityClassName: className('PriorityClass of the step Pod.').optional(),
  runtimeClassName: className(
    'RuntimeClass of the step Pod, e.g. gvisor or kata for isolation stronger than containers.',
  ).optional(),
  serviceAccountName: className(
    'Service account of the step Pod (workload identity to a cloud). Its token is mounted only with automountServiceAccountToken.',
  ).optional(),
  automountServiceAccountToken: z
    .boolean()
    .optional()
    .meta({ description: 'Mount the service account token into the step Pod (off unless set to true).' }),
};

/** A token mount needs a named service account: the namespace default account is never handed to a plugin. */
export const SERVICE_ACCOUNT_RULE = {
  cel: '!has(self.automountServiceAccountToken) || !self.automountServiceAccountToken || has(self.serviceAccountName)',
  message: 'automountServiceAccountToken needs serviceAccountName',
  fieldPath: '.automountServiceAccountToken',
  check: (s: { automountServiceAccountToken?: boolean; serviceAccountName?: string }): boolean =>
    s.automountServiceAccountToken !== true || s.serviceAccountName !== undefined,
};
