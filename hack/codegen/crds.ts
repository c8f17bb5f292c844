/** The CustomResourceDefinitions, generated from the zod types in api/v1alpha1. */
import type { z } from 'zod';
import { stringify } from 'yaml';
import {
  FlexPipelineSpec,
  FlexPipelineStatus,
  FlexPluginSpec,
  FlexPluginStatus,
  GROUP,
  LIMITS,
  PIPELINE_KIND,
  PLUGIN_KIND,
  VERSION,
} from '../../api/v1alpha1/index.js';
import { structuralSchema } from './openapi.js';

interface Names {
  readonly kind: string;
  readonly plural: string;
  readonly shortNames: string[];
}

interface PrinterColumn {
  readonly name: string;
  readonly type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  readonly jsonPath: string;
  readonly description: string;
  readonly priority?: number;
}

interface CrdInput {
  readonly names: Names;
  readonly description: string;
  readonly spec: z.ZodType;
  readonly status: z.ZodType;
  readonly columns: PrinterColumn[];
}

const READY = '.status.conditions[?(@.type=="Ready")]';

const INPUTS: CrdInput[] = [
  {
    names: { kind: PLUGIN_KIND, plural: 'flexplugins', shortNames: ['fplug'] },
    description:
      'FlexPlugin declares a data-integration plugin (a Singer tap or target, a transformer or a utility): its image and how it may run.',
    spec: FlexPluginSpec,
    status: FlexPluginStatus,
    columns: [
      { name: 'Type', type: 'string', jsonPath: '.spec.type', description: 'What the plugin does.' },
      { name: 'Image', type: 'string', jsonPath: '.spec.image', description: 'Container image.' },
      {
        name: 'Ready',
        type: 'string',
        jsonPath: `${READY}.status`,
        description: 'Whether the spec is valid.',
      },
      {
        name: 'Reason',
        type: 'string',
        jsonPath: `${READY}.reason`,
        description: 'Why it is (not) ready.',
        priority: 1,
      },
      {
        name: 'Age',
        type: 'date',
        jsonPath: '.metadata.creationTimestamp',
        description: 'Time since creation.',
      },
    ],
  },
  {
    names: { kind: PIPELINE_KIND, plural: 'flexpipelines', shortNames: ['fpipe'] },
    description:
      'FlexPipeline runs FlexPlugins as a DAG of sandboxed steps, once per spec change, on request or on a cron schedule.',
    spec: FlexPipelineSpec,
    status: FlexPipelineStatus,
    columns: [
      {
        name: 'Phase',
        type: 'string',
        jsonPath: '.status.phase',
        description: 'Phase of the current or last run.',
      },
      {
        name: 'Progress',
        type: 'string',
        jsonPath: '.status.progress',
        description: 'Finished steps of that run.',
      },
      { name: 'Schedule', type: 'string', jsonPath: '.spec.schedule', description: 'Cron schedule.' },
      {
        name: 'Suspend',
        type: 'boolean',
        jsonPath: '.spec.suspend',
        description: 'Whether new runs are held.',
      },
      {
        name: 'Last Schedule',
        type: 'date',
        jsonPath: '.status.lastScheduleTime',
        description: 'Last scheduled run.',
      },
      {
        name: 'Run',
        type: 'string',
        jsonPath: '.status.currentRun.id',
        description: 'Current run id.',
        priority: 1,
      },
      {
        name: 'Next Schedule',
        // A date column shows ages, and a future time as <invalid>: show the timestamp instead.
        type: 'string',
        jsonPath: '.status.nextScheduleTime',
        description: 'Next scheduled run.',
        priority: 1,
      },
      {
        name: 'Message',
        type: 'string',
        jsonPath: `${READY}.message`,
        description: 'Why it cannot run.',
        priority: 1,
      },
      {
        name: 'Age',
        type: 'date',
        jsonPath: '.metadata.creationTimestamp',
        description: 'Time since creation.',
      },
    ],
  },
];

function crd(input: CrdInput): Record<string, unknown> {
  const { kind, plural, shortNames } = input.names;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'flexcore', 'app.kubernetes.io/part-of': 'flexcore' },
    },
    spec: {
      group: GROUP,
      names: {
        kind,
        listKind: `${kind}List`,
        plural,
        singular: kind.toLowerCase(),
        shortNames,
        categories: ['flexcore'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: input.columns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: input.description,
              required: ['spec'],
              properties: {
                apiVersion: {
                  type: 'string',
                  description: 'Versioned schema of this object: flexcore.io/v1alpha1.',
                },
                kind: { type: 'string', description: `Kind of this object: ${kind}.` },
                metadata: { type: 'object' },
                spec: structuralSchema(input.spec),
                // Until the controller first writes status, kstatus (Flux) must see InProgress, not
                // Current: an observedGeneration that no generation equals (Flux's own CRDs do this).
                status: { ...structuralSchema(input.status), default: { observedGeneration: -1 } },
              },
              'x-kubernetes-validations': [
                {
                  rule: `size(self.metadata.name) <= ${LIMITS.maxNameLength}`,
                  message: `metadata.name must be at most ${LIMITS.maxNameLength} characters (it is used in label values)`,
                  fieldPath: '.metadata',
                },
              ],
            },
          },
        },
      ],
    },
  };
}

/** File name → YAML text of every CRD FlexCore installs. */
export function generateCrds(): Map<string, string> {
  const header = '# Generated by `npm run gen:crds` from api/v1alpha1. Do not edit.\n';
  return new Map(
    INPUTS.map((input) => [
      `${GROUP}_${input.names.plural}.yaml`,
      header + stringify(crd(input), { lineWidth: 0, aliasDuplicateObjects: false }),
    ]),
  );
}
