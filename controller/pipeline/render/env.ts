/** The environment of a step container: the plugin's plain env plus FlexCore's own variables. */
import type { V1EnvVar } from '@kubernetes/client-node';
import type { AttemptInput } from './attempt-input.js';
import type { ContainerPlan } from './container-plan.js';
import { configPath, PIPE_PATH, SCRATCH_DIR } from './layout.js';
import { discoveryEnv } from './discovery-wrapper.js';
import { PIPE_ENV } from './singer-wrapper.js';

/** Variables FlexCore sets; the prefix is reserved, so a plugin cannot shadow them. */
export const ENV = {
  runId: 'FLEXCORE_RUN_ID',
  step: 'FLEXCORE_STEP',
  attempt: 'FLEXCORE_ATTEMPT',
  configFile: 'FLEXCORE_CONFIG_FILE',
  pipe: PIPE_ENV,
} as const;

const RESERVED_ENV_PREFIX = 'FLEXCORE_';
/** W3C trace context, the variable OpenTelemetry SDKs read a parent from. */
const TRACEPARENT = 'TRACEPARENT';

/** The environment of one container, in a fixed order. */
export function containerEnv(plan: ContainerPlan, input: AttemptInput): V1EnvVar[] {
  const own = (plan.plugin.spec.env ?? []).filter(
    (e) => !e.name.startsWith(RESERVED_ENV_PREFIX) && !(input.traceparent && e.name === TRACEPARENT),
  );
  // No passwd entry for the uid and a read-only root: tools that write to $HOME need a real one.
  const home = own.some((e) => e.name === 'HOME') ? [] : [{ name: 'HOME', value: SCRATCH_DIR }];
  return [
    ...own.map((e) => ({ name: e.name, value: e.value })),
    ...home,
    { name: ENV.runId, value: input.runId },
    { name: ENV.step, value: input.step.name },
    { name: ENV.attempt, value: String(input.attempt) },
    { name: ENV.configFile, value: configPath(plan.configFile) },
    ...(plan.paired ? [{ name: ENV.pipe, value: PIPE_PATH }] : []),
    ...(plan.discover ? discoveryEnv(input.podName) : []),
    ...(input.traceparent ? [{ name: TRACEPARENT, value: input.traceparent }] : []),
  ];
}
