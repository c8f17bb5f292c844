/** FlexPipelines and FlexPlugins as the status API shows them: pure functions of the cached objects. */
import type { z } from 'zod';
import { effectiveProtocol, isSecretSetting } from '../../../api/v1alpha1/flexplugin.js';
import type { Condition } from '../../../api/v1alpha1/common.js';
import type { PipelineObject, PluginObject } from '../../objects.js';
import { LABELS } from '../../pipeline/labels.js';
import { usesPlugin } from '../../pipeline/plugin-use.js';
import type { PipelineSummary, PluginSummary } from '../schemas.js';

type Ready = { status: Condition['status']; reason?: string; message?: string };

function ready(conditions: readonly Condition[] | undefined): Ready | undefined {
  const c = conditions?.find((x) => x.type === 'Ready');
  return (
    c && { status: c.status, ...(c.reason && { reason: c.reason }), ...(c.message && { message: c.message }) }
  );
}

function time(t: Date | string | undefined): string | undefined {
  if (t === undefined) return undefined;
  return typeof t === 'string' ? t : t.toISOString();
}

export function pipelineSummary(p: Readonly<PipelineObject>): z.infer<typeof PipelineSummary> {
  const { spec, status, metadata } = p;
  return {
    namespace: metadata.namespace,
    name: metadata.name,
    uid: metadata.uid,
    generation: metadata.generation ?? 0,
    ...(status?.observedGeneration !== undefined && { observedGeneration: status.observedGeneration }),
    ...(metadata.creationTimestamp && { createdAt: time(metadata.creationTimestamp) }),
    labels: metadata.labels ?? {},
    steps: spec.steps.map((s) => ({
      name: s.name,
      plugin: s.plugin,
      ...(s.target && { target: s.target.plugin }),
      dependsOn: s.dependsOn ?? [],
    })),
    ...(spec.schedule && {
      schedule: {
        cron: spec.schedule,
        timeZone: spec.timeZone ?? 'UTC',
        suspend: spec.suspend ?? false,
        concurrencyPolicy: spec.concurrencyPolicy ?? 'Forbid',
        ...(status?.lastScheduleTime && { lastScheduleTime: status.lastScheduleTime }),
        ...(status?.nextScheduleTime && { nextScheduleTime: status.nextScheduleTime }),
      },
    }),
    phase: status?.phase ?? 'Idle',
    ...(status?.progress && { progress: status.progress }),
    ...(ready(status?.conditions) && { ready: ready(status?.conditions) }),
    ...(status?.currentRun && { currentRun: status.currentRun }),
    ...(status?.lastRun && { lastRun: status.lastRun }),
    adHoc: metadata.labels?.[LABELS.adHoc] === 'true',
  };
}

export function pluginSummary(
  plugin: Readonly<PluginObject>,
  pipelines: readonly Readonly<PipelineObject>[],
): z.infer<typeof PluginSummary> {
  const { spec, metadata, status } = plugin;
  return {
    namespace: metadata.namespace,
    name: metadata.name,
    uid: metadata.uid,
    generation: metadata.generation ?? 0,
    type: spec.type,
    protocol: effectiveProtocol(spec),
    image: spec.image,
    capabilities: [...(spec.capabilities ?? [])],
    settings: (spec.settings ?? []).map((s) => ({
      name: s.name,
      required: s.required ?? false,
      secret: isSecretSetting(s),
      ...(s.description && { description: s.description }),
    })),
    ...(ready(status?.conditions) && { ready: ready(status?.conditions) }),
    usedBy: pipelines
      .filter((p) => usesPlugin(p, plugin))
      .map((p) => p.metadata.name)
      .sort(),
  };
}
