/**
 * The status API's request parameters and response bodies as zod schemas: the router validates
 * with them and the OpenAPI document is generated from them. Field descriptions here are the
 * API reference.
 */
import { z } from 'zod';
import { Condition, TimeoutSeconds } from '../../api/v1alpha1/common.js';
import { freeForm } from '../../api/v1alpha1/kube.js';
import {
  ConfigSource,
  PipelinePhase,
  RunStatus,
  RunTrigger,
  SingerTarget,
  StepName,
} from '../../api/v1alpha1/flexpipeline.js';
import { PluginType } from '../../api/v1alpha1/flexplugin.js';

// ---- parameters -------------------------------------------------------------------------

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const Namespace = z.string().max(63).regex(DNS_LABEL, 'must be a namespace name (a DNS label)');
export const ObjectName = z.string().max(253).regex(DNS_SUBDOMAIN, 'must be a Kubernetes object name');
export const RunId = z
  .string()
  .max(128)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a run id such as g3-1a2b3c4d')
  .meta({ description: 'Run id, as in a pipeline status or a run list.' });

export const NamespaceParams = z.strictObject({ namespace: Namespace });
export const PipelineParams = z.strictObject({ namespace: Namespace, name: ObjectName });
/** `{namespace}/{name}` of any namespaced object. */
export const ObjectParams = PipelineParams;
export const RunParams = z.strictObject({ namespace: Namespace, name: ObjectName, runId: RunId });
export const StepParams = z.strictObject({ namespace: Namespace, name: ObjectName, step: StepName });
export const NamespacedRunParams = z.strictObject({ namespace: Namespace, runId: RunId });
export const AttemptParams = z.strictObject({
  namespace: Namespace,
  name: ObjectName,
  runId: RunId,
  step: StepName,
  attempt: z.coerce.number().int().min(1).max(100_000),
});

const Limit = (max: number, fallback: number): z.ZodType<number> =>
  z.coerce
    .number()
    .int()
    .min(1)
    .max(max)
    .default(fallback)
    .meta({ description: `Page size, at most ${max}.` });
const PageToken = z
  .string()
  .min(1)
  .max(512)
  .optional()
  .meta({ description: 'The nextPageToken of the previous page, with the same filters.' });
const LabelSelector = z.string().max(1024).optional().meta({
  description: 'Label selector of the pipelines, as kubectl takes it: app=x,tier!=db,env in (a,b).',
});
const Timestamp = z.iso.datetime({ offset: true });

export const ObjectListQuery = z.strictObject({
  labelSelector: LabelSelector,
  limit: Limit(500, 100),
  pageToken: PageToken,
});

/** A comma list of allowed values, e.g. `Failed,Cancelled`. */
function commaList<T extends string>(values: readonly [T, ...T[]], what: string): z.ZodType<T[] | undefined> {
  const pattern = new RegExp(`^(${values.join('|')})(,(${values.join('|')}))*$`);
  return z
    .string()
    .regex(pattern, `must be one or more of ${values.join(', ')}, comma-separated`)
    .transform((s) => [...new Set(s.split(','))] as T[])
    .optional()
    .meta({ description: `${what}: one or more of ${values.join(', ')}, comma-separated.` });
}

export const RUN_PHASES = ['Running', 'Succeeded', 'Failed', 'Cancelled'] as const;
export const RunPhaseFilter = z.enum(RUN_PHASES);

export const RunListQuery = z.strictObject({
  phase: commaList(RUN_PHASES, 'Run phase'),
  trigger: commaList(RunTrigger.options as ['Generation', 'Manual', 'Schedule'], 'What started the run'),
  startedAfter: Timestamp.optional().meta({
    description: 'Runs started at or after this instant (RFC 3339).',
  }),
  startedBefore: Timestamp.optional().meta({ description: 'Runs started before this instant (RFC 3339).' }),
  pipeline: z
    .string()
    .max(317)
    .regex(
      /^([a-z0-9]([-a-z0-9]*[a-z0-9])?\/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/,
      'must be a pipeline name or namespace/name',
    )
    .optional()
    .meta({
      description: 'Only runs of this pipeline: a name (in the namespace of the path) or namespace/name.',
    }),
  labelSelector: LabelSelector,
  order: z
    .enum(['desc', 'asc'])
    .default('desc')
    .meta({ description: 'By start time: newest first (desc) or oldest first.' }),
  limit: Limit(500, 50),
  pageToken: PageToken,
});
export type RunListQuery = z.output<typeof RunListQuery>;

export const LogQuery = z.strictObject({
  container: z
    .string()
    .max(63)
    .regex(DNS_LABEL, 'must be a container name')
    .optional()
    .meta({ description: 'One container of the attempt (tap, target, step); all of them when unset.' }),
});

export const FeedQuery = z.strictObject({
  after: z
    .string()
    .max(64)
    .optional()
    .meta({ description: 'A cursor (an event id of this feed, or a nextCursor): events after it.' }),
  stream: z.string().min(1).max(256).optional().meta({ description: 'Only events of this stream.' }),
  type: z
    .string()
    .max(512)
    .regex(/^[A-Za-z][A-Za-z0-9]*(,[A-Za-z][A-Za-z0-9]*)*$/, 'must be event types, comma-separated')
    .optional()
    .meta({ description: 'Only events of these types, comma-separated (RunStarted,RunFinished).' }),
  namespace: Namespace.optional().meta({
    description:
      'Only events of pipelines in this namespace (required unless the caller may list pipelines cluster-wide).',
  }),
  pipeline: ObjectName.optional().meta({ description: 'Only events of this pipeline (needs namespace).' }),
  limit: Limit(1000, 100),
});
export type FeedQuery = z.output<typeof FeedQuery>;

export const StreamQuery = FeedQuery.omit({ limit: true });

// ---- responses ----------------------------------------------------------------------------

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string(),
    instance: z.string().optional(),
    invalidParams: z
      .array(
        z.object({ in: z.enum(['path', 'query', 'header', 'body']), name: z.string(), reason: z.string() }),
      )
      .optional(),
    denied: z
      .object({
        verb: z.string(),
        resource: z.string(),
        subresource: z.string().optional(),
        namespace: z.string().optional(),
      })
      .optional(),
  })
  .meta({ description: 'An RFC 9457 problem document.' });

const Time = z.string().meta({ description: 'RFC 3339 timestamp.' });

export const ScopeStatus = z.object({
  scope: z.string(),
  bucket: z.int(),
  leading: z.boolean().meta({ description: 'Whether this replica leads the scope now.' }),
  leader: z.string().meta({ description: "The scope's leader as this replica last saw it ('' when none)." }),
});

export const ControllerStatus = z.object({
  version: z.string(),
  identity: z.string().meta({ description: "This replica's identity (its Pod name)." }),
  role: z.enum(['leader', 'standby']).meta({ description: 'Leader of at least one scope, or standby.' }),
  election: z
    .record(z.string(), z.unknown())
    .meta({ description: 'How the election runs (mode, members, Redis).' }),
  scopes: z.array(ScopeStatus),
  queue: z
    .object({ pipelines: z.int(), plugins: z.int() })
    .meta({ description: 'Keys waiting for a reconcile.' }),
  informers: z.object({ pipelines: z.boolean(), plugins: z.boolean(), pods: z.boolean() }),
  eventStore: z.enum(['up', 'down']),
  redis: z.enum(['up', 'degraded', 'off']),
  apiAuth: z.enum(['kubernetes', 'none']),
});
export type ControllerStatusBody = z.infer<typeof ControllerStatus>;

export const StepSummary = z.object({
  name: z.string(),
  plugin: z.string(),
  target: z.string().optional().meta({ description: 'The Singer target plugin paired with this tap.' }),
  dependsOn: z.array(z.string()),
});

const ReadyCondition = Condition.pick({ status: true, reason: true, message: true }).partial({
  reason: true,
  message: true,
});

export const PipelineSummary = z.object({
  namespace: z.string(),
  name: z.string(),
  uid: z.string(),
  generation: z.int(),
  observedGeneration: z.int().optional(),
  createdAt: Time.optional(),
  labels: z.record(z.string(), z.string()),
  steps: z.array(StepSummary),
  schedule: z
    .object({
      cron: z.string(),
      timeZone: z.string(),
      suspend: z.boolean(),
      concurrencyPolicy: z.string(),
      lastScheduleTime: Time.optional(),
      nextScheduleTime: Time.optional(),
    })
    .optional(),
  phase: PipelinePhase,
  progress: z.string().optional(),
  ready: ReadyCondition.optional(),
  currentRun: RunStatus.optional(),
  lastRun: RunStatus.optional(),
  adHoc: z.boolean().meta({ description: 'Created by POST .../plugins/{name}/execute.' }),
});

export const PluginSummary = z.object({
  namespace: z.string(),
  name: z.string(),
  uid: z.string(),
  generation: z.int(),
  type: PluginType,
  protocol: z.enum(['singer', 'plain']),
  image: z.string(),
  capabilities: z.array(z.string()),
  settings: z.array(
    z.object({
      name: z.string(),
      required: z.boolean(),
      secret: z.boolean(),
      description: z.string().optional(),
    }),
  ),
  ready: ReadyCondition.optional(),
  usedBy: z
    .array(z.string())
    .meta({ description: 'Pipelines of the namespace whose steps run this plugin.' }),
});

export const PipelineList = z.object({
  items: z.array(PipelineSummary),
  nextPageToken: z.string().optional(),
});
export const PluginList = z.object({ items: z.array(PluginSummary), nextPageToken: z.string().optional() });

export const Run = z.object({
  runId: z.string(),
  namespace: z.string(),
  pipeline: z.string(),
  trigger: RunTrigger,
  generation: z.int().optional(),
  phase: RunPhaseFilter,
  reason: z.string().optional(),
  startedAt: Time,
  finishedAt: Time.optional(),
  durationSeconds: z.number().optional(),
});
export type Run = z.infer<typeof Run>;

export const RunList = z.object({
  items: z.array(Run),
  nextPageToken: z.string().optional().meta({ description: 'Absent on the last page.' }),
});

export const Attempt = z.object({
  attempt: z.int().meta({ description: '1, 2, ...; 0 for a step that was skipped without running.' }),
  phase: z.string(),
  pod: z.string().optional(),
  exitCode: z.int().optional(),
  reason: z.string().optional(),
  scheduledAt: Time.optional(),
  startedAt: Time.optional(),
  finishedAt: Time.optional(),
  durationSeconds: z.number().optional(),
  logs: z.array(z.object({ container: z.string(), bytes: z.int(), truncated: z.boolean() })),
});

export const RunStep = z.object({
  name: z.string(),
  phase: z.string(),
  attempts: z.array(Attempt),
  nextAttemptTime: Time.optional().meta({
    description: 'When the next retry starts, while the step waits for it.',
  }),
  message: z.string().optional(),
});

export const RunDetail = Run.extend({ steps: z.array(RunStep) });

export const SingerStateEntry = z.object({
  step: z.string(),
  stateId: z.string(),
  state: z
    .record(z.string(), z.unknown())
    .optional()
    .meta({ description: 'The bookmark of the last succeeded run.' }),
  stateRunId: z.string().optional(),
  stateAt: Time.optional(),
  partialState: z
    .record(z.string(), z.unknown())
    .optional()
    .meta({ description: 'What a later failed run had committed; the next run resumes from it when newer.' }),
  partialRunId: z.string().optional(),
  partialAt: Time.optional(),
  changedBy: z
    .string()
    .optional()
    .meta({ description: 'Who set the state through the API, until a run captures newer state.' }),
  resumeFrom: z
    .enum(['state', 'partialState'])
    .optional()
    .meta({ description: "Which of the two the next run's tap starts from; absent: from nothing." }),
});
export const SingerStateList = z.object({ items: z.array(SingerStateEntry) });

export const FeedEvent = z.object({
  cursor: z
    .string()
    .meta({ description: 'Position in the feed; pass as `after` (or Last-Event-ID) to continue.' }),
  position: z.int(),
  stream: z.string(),
  streamVersion: z.int(),
  id: z.string(),
  type: z.string(),
  recordedAt: Time,
  namespace: z.string().optional(),
  pipeline: z.string().optional(),
  data: z.record(z.string(), z.unknown()),
});
export type FeedEvent = z.infer<typeof FeedEvent>;

export const FeedPage = z.object({
  items: z.array(FeedEvent),
  nextCursor: z.string().meta({ description: 'Where the next call continues (also when no event matched).' }),
});

// ---- commands -----------------------------------------------------------------------------

export const RunRequestBody = z
  .strictObject({
    fullRefresh: z
      .array(z.union([StepName, z.literal('*')]))
      .max(64)
      .optional()
      .meta({ description: 'Steps of this run that ignore their stored Singer state ("*": every step).' }),
  })
  .meta({ description: 'A manual run; every field is optional.' });

export const RunRequested = z.object({
  namespace: z.string(),
  pipeline: z.string(),
  request: z.string().meta({ description: 'The value set on flexcore.io/run-requested.' }),
  runId: z
    .string()
    .optional()
    .meta({ description: 'The run it started, when the controller took it up in time.' }),
});

export const SingerStateBody = z
  .strictObject({
    state: z.record(z.string(), z.unknown()).meta({
      description:
        'The Singer state the next run\'s tap starts from, e.g. {"bookmarks": {"public-orders": {"replication_key": "updated_at", "replication_key_value": "2026-01-01T00:00:00+00:00"}}}.',
    }),
  })
  .meta({ description: 'A Singer state to store for a step.' });

export const SingerStateChanged = SingerStateEntry.extend({
  position: z
    .int()
    .meta({ description: 'Position of the recorded SingerStateSet or SingerStateCleared event.' }),
});

export const CancelRequested = z.object({
  namespace: z.string(),
  pipeline: z.string(),
  runId: z.string(),
  phase: z.string().meta({
    description: 'The run phase when the answer was sent (Cancelled once the controller stopped it).',
  }),
});

// ---- summary ------------------------------------------------------------------------------

export const SummaryQuery = z.strictObject({
  groupBy: z
    .enum(['day', 'pipeline'])
    .default('day')
    .meta({ description: 'One group per UTC day, or per pipeline.' }),
  since: z.iso.date().optional().meta({
    description: 'First UTC day counted (YYYY-MM-DD); 7 days ago when unset, at most 400 days back.',
  }),
});

export const SummaryGroup = z.object({
  key: z.string().meta({ description: 'The day (YYYY-MM-DD) or the pipeline (namespace/name).' }),
  runs: z
    .record(z.string(), z.int())
    .meta({ description: 'Finished runs by result (Succeeded, Failed, Cancelled).' }),
  total: z.int(),
  durationSeconds: z.object({ mean: z.number(), p50: z.number(), p90: z.number(), p99: z.number() }).meta({
    description: 'Of all finished runs of the group; percentiles estimated from a duration histogram.',
  }),
});

export const Summary = z.object({
  since: z.string(),
  groupBy: z.enum(['day', 'pipeline']),
  groups: z.array(SummaryGroup),
});

export const ExecuteBody = z
  .strictObject({
    config: freeForm('Non-secret settings of the plugin (its config file).').optional(),
    configFrom: z
      .array(ConfigSource)
      .max(32)
      .optional()
      .meta({ description: 'Secret-sourced settings, applied over config.' }),
    target: SingerTarget.optional(),
    timeoutSeconds: TimeoutSeconds.optional(),
    ttlSecondsAfterFinished: z
      .int()
      .min(0)
      .max(7 * 86400)
      .default(3600)
      .meta({
        description:
          'How long the ad hoc pipeline stays after its run finished (its history stays in the store).',
      }),
  })
  .meta({ description: 'One run of the plugin, as a one-step pipeline.' });

export const ExecuteAccepted = z.object({
  namespace: z.string(),
  pipeline: z.string().meta({ description: 'The ad hoc FlexPipeline created for the run.' }),
  runId: z.string().optional().meta({ description: 'The run, when the controller started it in time.' }),
});

// ---- external events ------------------------------------------------------------------------

/** Largest `data` of an external event, serialized. */
export const MAX_EXTERNAL_EVENT_BYTES = 16 * 1024;

export const ExternalEventBody = z
  .strictObject({
    source: z
      .string()
      .max(63)
      .regex(DNS_LABEL, 'must be a DNS label, e.g. billing-system')
      .meta({ description: 'Who sends it; the event goes to stream external-<source>.' }),
    type: z
      .string()
      .max(64)
      .regex(/^[A-Z][A-Za-z0-9]*$/, 'must be PascalCase, e.g. InvoiceBatchReady')
      .meta({ description: "The event's type (types the engine records are refused)." }),
    id: z
      .uuid()
      .optional()
      .meta({ description: 'Idempotency key: sending the same id again records it once.' }),
    data: z
      .record(z.string(), z.unknown())
      .refine(
        (d) => Buffer.byteLength(JSON.stringify(d)) <= MAX_EXTERNAL_EVENT_BYTES,
        `at most ${MAX_EXTERNAL_EVENT_BYTES} bytes as JSON`,
      )
      .default({}),
  })
  .meta({ description: 'An event from outside FlexCore, carried by the feed and the stream.' });

export const ExternalEventRecorded = z.object({
  stream: z.string(),
  id: z.string(),
  position: z.int(),
  duplicate: z.boolean().meta({ description: 'This id was recorded before; nothing new was written.' }),
});

// ---- the seed API's envelopes ---------------------------------------------------------------

export const SeedId = z
  .string()
  .max(317)
  .regex(
    /^([a-z0-9]([-a-z0-9]*[a-z0-9])?\/)?[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/,
    'must be a name or namespace/name (URL-encoded as namespace%2Fname)',
  )
  .meta({ description: 'A plugin: its name in the default namespace, or namespace/name.' });

export const Envelope = z.strictObject({
  type: z.string().min(1).max(64).meta({ description: 'What to do (see the operation description).' }),
  payload: z.record(z.string(), z.unknown()).default({}),
});
