/** FlexPipeline: which plugins to run as a DAG of steps, and when. */
import { z } from 'zod';
import {
  API_VERSION,
  Conditions,
  ObservedGeneration,
  LIMITS,
  LocalName,
  ObjectMeta,
  PodMetadata,
  ResourceRequirements,
  RetryPolicy,
  TimeoutSeconds,
} from './common.js';
import { StepCatalog } from './catalog.js';
import type { RuleIssue } from './kube.js';
import { ImagePullPolicy, PodPlacementFields, SERVICE_ACCOUNT_RULE } from './scheduling.js';
import { PluginVolumes } from './volumes.js';
import { DNS_LABEL, freeForm, listMap, listSet, withRules } from './kube.js';

export const PIPELINE_KIND = 'FlexPipeline';

/** Five cron fields, or one of the descriptors Kubernetes CronJobs accept. */
export const CRON_SHAPE =
  /^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|\S+\s+\S+\s+\S+\s+\S+\s+\S+)$/;

export const StepName = z
  .string()
  .min(1)
  .max(LIMITS.maxStepNameLength)
  .regex(DNS_LABEL, 'must be a lower-case DNS label (a-z, 0-9 and -)');

/** A database schema a Singer target loads into: a plain SQL identifier, so it never needs quoting. */
export const LoadSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an identifier: a letter or _, then letters, digits or _');

const SecretKeySelector = z
  .strictObject({
    name: LocalName.meta({ description: 'Name of a Secret in the pipeline namespace.' }),
    key: z.string().min(1).max(253).meta({ description: 'Key inside the Secret.' }),
  })
  .meta({ description: 'One key of a Secret.' });

export const ConfigSource = withRules(
  z.strictObject({
    setting: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .meta({ description: 'Setting that receives the value of secretKeyRef. Required with secretKeyRef.' }),
    secretKeyRef: SecretKeySelector.optional(),
    secretRef: z
      .strictObject({ name: LocalName.meta({ description: 'Name of a Secret in the pipeline namespace.' }) })
      .optional()
      .meta({ description: 'A whole Secret: each of its keys becomes the setting of the same name.' }),
  }),
  'Settings taken from a Secret. Values are mounted into the Pod as files and never copied into status, events or logs.',
  [
    {
      cel: 'has(self.secretKeyRef) != has(self.secretRef)',
      message: 'exactly one of secretKeyRef or secretRef must be set',
      check: (c) => (c.secretKeyRef !== undefined) !== (c.secretRef !== undefined),
    },
    {
      cel: 'has(self.secretKeyRef) == has(self.setting)',
      message: 'setting is required with secretKeyRef and not allowed with secretRef',
      fieldPath: '.setting',
      check: (c) => (c.secretKeyRef !== undefined) === (c.setting !== undefined),
    },
  ],
);
export type ConfigSource = z.infer<typeof ConfigSource>;

const ConfigFromList = z
  .array(ConfigSource)
  .max(32)
  .meta({ description: 'Secret-sourced settings, applied over config.' });

export const SingerTarget = z
  .strictObject({
    plugin: LocalName.meta({
      description: 'Name of the target FlexPlugin (type target) in the same namespace.',
    }),
    config: freeForm('Non-secret settings of the target.').optional(),
    configFrom: ConfigFromList.optional(),
    volumes: PluginVolumes.optional(),
  })
  .meta({
    description:
      'Singer pairing: the target runs in the same Pod as this tap step, reading the tap output on its standard input.',
  });
export type SingerTarget = z.infer<typeof SingerTarget>;

export const Step = withRules(
  z.strictObject({
    name: StepName.meta({
      description: 'Name of the step, unique in the pipeline (a DNS label, at most 40 characters).',
    }),
    plugin: LocalName.meta({ description: 'Name of the FlexPlugin this step runs, in the same namespace.' }),
    target: SingerTarget.optional(),
    loadSchema: LoadSchema.optional().meta({
      description:
        "Schema the step's Singer target loads into, replacing the pipeline's loadSchema: its default_target_schema, when the target declares that setting and its own config does not set it.",
    }),
    config: freeForm('Non-secret settings passed to the plugin as its config file.').optional(),
    configFrom: ConfigFromList.optional(),
    dependsOn: listSet(
      StepName,
      'Steps that must succeed before this one starts. Steps without dependencies start at once, in parallel.',
      LIMITS.maxDependsOn,
    ).optional(),
    retries: RetryPolicy.optional(),
    timeoutSeconds: TimeoutSeconds.optional(),
    resources: ResourceRequirements.optional(),
    catalog: StepCatalog.optional(),
    stateId: z
      .string()
      .min(1)
      .max(253)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'must contain only letters, digits, ., _, / and -')
      .optional()
      .meta({
        description:
          'Key under which Singer state is kept between runs, relative to the namespace (stored as <namespace>/<stateId>). Defaults to <pipeline>/<step>; give steps of several pipelines in one namespace the same id to hand state between them.',
      }),
    podMetadata: PodMetadata.optional(),
    imagePullPolicy: ImagePullPolicy.optional().meta({
      description: "When the node pulls the step's images; replaces the plugins' own policy.",
    }),
    ...PodPlacementFields,
    volumes: PluginVolumes.optional(),
  }),
  'One unit of work: a plugin run in its own sandboxed Pod.',
  [
    SERVICE_ACCOUNT_RULE,
    {
      cel: '!has(self.dependsOn) || !(self.name in self.dependsOn)',
      message: 'a step cannot depend on itself',
      fieldPath: '.dependsOn',
      check: (s) => !(s.dependsOn ?? []).includes(s.name),
    },
    {
      cel: '!has(self.loadSchema) || has(self.target)',
      message: 'loadSchema is for steps with a Singer target',
      fieldPath: '.loadSchema',
      check: (s) => s.loadSchema === undefined || s.target !== undefined,
    },
  ],
);
export type Step = z.infer<typeof Step>;

const Steps = withRules(
  listMap(
    Step,
    'name',
    'The steps of the pipeline; dependsOn links them into a directed acyclic graph.',
    LIMITS.maxSteps,
  ).min(1),
  'The steps of the pipeline; dependsOn links them into a directed acyclic graph.',
  [
    {
      cel: 'self.all(s, !has(s.dependsOn) || s.dependsOn.all(d, self.exists(o, o.name == d)))',
      message: 'dependsOn must name steps of this pipeline',
      check: (steps): RuleIssue[] => {
        const names = new Set(steps.map((s) => s.name));
        return steps.flatMap((s, i) =>
          (s.dependsOn ?? []).flatMap((d, j) =>
            names.has(d)
              ? []
              : [{ path: [i, 'dependsOn', j], message: `dependsOn names unknown step "${d}"` }],
          ),
        );
      },
    },
  ],
);

export const ConcurrencyPolicy = z.enum(['Allow', 'Forbid', 'Replace']).meta({
  description:
    'What happens when a run is due while another is still running: Allow runs both, Forbid skips the new one, Replace cancels the running one. Forbid by default, so Singer state is never written by two runs at once.',
});

export const FlexPipelineSpec = withRules(
  z.strictObject({
    steps: Steps,
    schedule: z
      .string()
      .max(128)
      .regex(CRON_SHAPE, 'must be a cron expression with five fields or a descriptor such as @daily')
      .optional()
      .meta({
        description:
          'Cron schedule (five fields: minute hour day-of-month month day-of-week, or @hourly, @daily, ...). Without a schedule the pipeline runs once per spec generation.',
      }),
    timeZone: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9_+\-/]+$/, 'must be an IANA time zone name such as Europe/Berlin')
      .optional()
      .meta({ description: 'IANA time zone of the schedule, e.g. Europe/Berlin. UTC when unset.' }),
    concurrencyPolicy: ConcurrencyPolicy.default('Forbid'),
    startingDeadlineSeconds: z.int().min(0).max(LIMITS.maxTimeoutSeconds).optional().meta({
      description:
        'How late a missed scheduled run may still start, e.g. after controller downtime. Only the most recent missed tick runs, once.',
    }),
    suspend: z
      .boolean()
      .default(false)
      .meta({ description: 'Stop starting new runs; running ones continue.' }),
    activeDeadlineSeconds: z
      .int()
      .min(1)
      .max(30 * 24 * 3600)
      .optional()
      .meta({
        description:
          'Maximum duration of a whole run in seconds; remaining steps are cancelled when exceeded.',
      }),
    successfulRunsHistoryLimit: z.int().min(0).max(100).default(3).meta({
      description:
        'How many succeeded runs keep their Pods; older ones are deleted (history stays in the event store).',
    }),
    failedRunsHistoryLimit: z
      .int()
      .min(0)
      .max(100)
      .default(3)
      .meta({ description: 'How many failed or cancelled runs keep their Pods.' }),
    loadSchema: LoadSchema.optional().meta({
      description:
        'Schema the Singer targets of the steps load into: their default_target_schema, when a target declares that setting and neither its own config nor the step (loadSchema) sets it.',
    }),
    podMetadata: PodMetadata.optional(),
  }),
  'Desired state of the pipeline.',
  [
    {
      cel: '!has(self.timeZone) || has(self.schedule)',
      message: 'timeZone requires schedule',
      fieldPath: '.timeZone',
      check: (s) => s.timeZone === undefined || s.schedule !== undefined,
    },
    {
      cel: '!has(self.startingDeadlineSeconds) || has(self.schedule)',
      message: 'startingDeadlineSeconds requires schedule',
      fieldPath: '.startingDeadlineSeconds',
      check: (s) => s.startingDeadlineSeconds === undefined || s.schedule !== undefined,
    },
  ],
);
export type FlexPipelineSpec = z.infer<typeof FlexPipelineSpec>;

export const StepPhase = z
  .enum([
    'Waiting',
    'Scheduled',
    'Running',
    'Retrying',
    'Succeeded',
    'Failed',
    'Skipped',
    'Cancelled',
    'TimedOut',
  ])
  .meta({ description: 'Phase of a step in a run.' });
export type StepPhase = z.infer<typeof StepPhase>;

export const RunPhase = z
  .enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Cancelled'])
  .meta({ description: 'Phase of a run.' });
export type RunPhase = z.infer<typeof RunPhase>;

export const RunTrigger = z.enum(['Generation', 'Manual', 'Schedule']).meta({
  description: 'What started the run: a new spec generation, the run-requested annotation, or the schedule.',
});
export type RunTrigger = z.infer<typeof RunTrigger>;

const StepMessage = z
  .string()
  .max(1024)
  .meta({ description: 'What the kubelet said when the step could not start (e.g. an image pull error).' });

export const StepStatus = z
  .object({
    name: z.string().meta({ description: 'Step name.' }),
    phase: StepPhase,
    attempt: z.int().optional().meta({ description: 'Current or last attempt, starting at 1.' }),
    pod: z.string().optional().meta({ description: 'Pod of the current or last attempt.' }),
    startTime: z.string().optional().meta({ description: 'When the first attempt started (RFC 3339).' }),
    completionTime: z.string().optional().meta({ description: 'When the step finished (RFC 3339).' }),
    exitCode: z.int().optional().meta({ description: 'Exit code of the last finished attempt.' }),
    reason: z.string().optional().meta({ description: 'Why the step is in this phase, CamelCase.' }),
    message: StepMessage.optional(),
    nextAttemptTime: z
      .string()
      .optional()
      .meta({ description: 'When the next retry starts, while Retrying.' }),
  })
  .meta({ description: 'Summary of one step of a run.' });
export type StepStatus = z.infer<typeof StepStatus>;

export const RunStatus = z
  .object({
    id: z.string().meta({ description: 'Run id, unique and deterministic for the pipeline and trigger.' }),
    trigger: RunTrigger,
    phase: RunPhase,
    startTime: z.string().optional().meta({ description: 'When the run started (RFC 3339).' }),
    completionTime: z.string().optional().meta({ description: 'When the run finished (RFC 3339).' }),
    steps: listMap(StepStatus, 'name', 'Per-step summary of the run.', LIMITS.maxSteps).optional(),
  })
  .meta({ description: 'Summary of one run. The full history is in the event store.' });
export type RunStatus = z.infer<typeof RunStatus>;

export const PipelinePhase = z
  .enum(['Idle', 'Pending', 'Running', 'Succeeded', 'Failed', 'Cancelled', 'Invalid'])
  .meta({
    description:
      'Phase of the pipeline: that of its current or last run, Idle before the first, Invalid when the spec cannot run.',
  });
export type PipelinePhase = z.infer<typeof PipelinePhase>;

export const FlexPipelineStatus = z
  .object({
    observedGeneration: ObservedGeneration.optional(),
    phase: PipelinePhase.optional(),
    progress: z
      .string()
      .optional()
      .meta({ description: 'Finished steps of the current or last run, e.g. 2/3.' }),
    conditions: Conditions.optional(),
    currentRun: RunStatus.optional(),
    lastRun: RunStatus.optional(),
    lastScheduleTime: z
      .string()
      .optional()
      .meta({ description: 'When the schedule last started a run (RFC 3339).' }),
    nextScheduleTime: z
      .string()
      .optional()
      .meta({ description: 'When the schedule starts the next run (RFC 3339).' }),
    lastRunRequest: z
      .string()
      .optional()
      .meta({ description: 'The last value of the flexcore.io/run-requested annotation acted on.' }),
    lastEventPosition: z
      .string()
      .optional()
      .meta({ description: 'Global position of the last event recorded for this pipeline.' }),
  })
  .meta({ description: 'Observed state of the pipeline, written by the controller. Small and bounded.' });
export type FlexPipelineStatus = z.infer<typeof FlexPipelineStatus>;

export const FlexPipeline = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(PIPELINE_KIND),
  metadata: ObjectMeta,
  spec: FlexPipelineSpec,
  status: FlexPipelineStatus.optional(),
});
export type FlexPipeline = z.infer<typeof FlexPipeline>;
