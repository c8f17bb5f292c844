/** The Pod of one step attempt: deterministic, sandboxed, owned by the pipeline. */
import type { V1Pod } from '@kubernetes/client-node';
import type { AttemptInput } from './attempt-input.js';
import { renderContainer } from './container.js';
import { planContainers } from './container-plan.js';
import { attemptLabels, mergePodMetadata, namespaceOf, ownerReference } from './metadata.js';
import { mergeResources } from './resources.js';
import { podSecurityContext, runAsUserOf } from './sandbox.js';
import { renderPlacement } from './placement.js';
import { renderVolumes } from './volumes.js';
import { INLINE_CONFIG_ANNOTATION } from './config-carrier.js';
import { inlineConfigText } from './config.js';
import { effectiveTimeoutSeconds } from '../step-policy.js';

/** Labels and annotations: plugin, target plugin, pipeline, step (later wins), then FlexCore's own. */
function podMetadata(input: AttemptInput): {
  labels: Record<string, string>;
  annotations: Record<string, string>;
} {
  const merged = mergePodMetadata([
    input.plugin.spec.podMetadata,
    input.targetPlugin?.spec.podMetadata,
    input.pipeline.spec.podMetadata,
    input.step.podMetadata,
  ]);
  const annotations = input.inlineConfig
    ? { ...merged.annotations, [INLINE_CONFIG_ANNOTATION]: inlineConfigText(input) }
    : merged.annotations;
  return { labels: { ...merged.labels, ...attemptLabels(input) }, annotations };
}

/**
 * Renders the attempt's Pod. Expects an input that renderAttemptConfig accepted; throws a
 * TerminalError for a pair without a target plugin or without commands.
 */
export function renderPod(input: AttemptInput): V1Pod {
  const sized = planContainers(input).map((plan) => ({ plan, resources: mergeResources(plan.resources) }));
  const namespace = namespaceOf(input.pipeline);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: input.podName,
      ...(namespace ? { namespace } : {}),
      ...podMetadata(input),
      ownerReferences: [ownerReference(input.pipeline)],
    },
    spec: {
      restartPolicy: 'Never',
      // No service-account token unless a step or plugin names an account and opts in.
      ...renderPlacement(input),
      enableServiceLinks: false,
      // The same timeout the controller enforces, so a kubelet stops the Pod even while it is down.
      activeDeadlineSeconds: effectiveTimeoutSeconds(input.step, input.plugin),
      securityContext: podSecurityContext(runAsUserOf(input.plugin)),
      containers: sized.map((c) => renderContainer(c.plan, input, c.resources)),
      volumes: renderVolumes(sized, input.inlineConfig ? { inline: true } : { secretName: input.secretName }),
    },
  };
}
