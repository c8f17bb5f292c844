/** One sandboxed step container. */
import type { V1Container } from '@kubernetes/client-node';
import type { AttemptInput } from './attempt-input.js';
import { containerArgv } from './command.js';
import type { ContainerPlan } from './container-plan.js';
import { containerEnv } from './env.js';
import { pullPolicyOf } from './placement.js';
import type { Resources } from './resources.js';
import { containerSecurityContext, runAsUserOf } from './sandbox.js';
import { volumeMounts } from './volumes.js';

/** Renders a planned container with its (already merged) resources. */
export function renderContainer(plan: ContainerPlan, input: AttemptInput, resources: Resources): V1Container {
  const { image } = plan.plugin.spec;
  const imagePullPolicy = pullPolicyOf(input, plan.plugin.spec.imagePullPolicy);
  return {
    name: plan.name,
    image,
    ...(imagePullPolicy ? { imagePullPolicy } : {}),
    ...containerArgv(plan),
    env: containerEnv(plan, input),
    resources: { requests: { ...resources.requests }, limits: { ...resources.limits } },
    securityContext: containerSecurityContext(runAsUserOf(plan.plugin)),
    volumeMounts: volumeMounts(plan),
    // The log tail becomes the termination message of a failed container: the reason survives the Pod.
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}
