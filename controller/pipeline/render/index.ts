/** Pure rendering of what a step attempt runs as: its Pod, config Secret and NetworkPolicies. */
export type { AttemptInput } from './attempt-input.js';
export type { ConfigProblem, ConfigProblemReason } from './config-problem.js';
export { renderAttemptConfig, type AttemptConfig } from './config.js';
export { renderPod } from './pod.js';
export { renderNetworkPolicies, denyAllPolicyName, egressPolicyName } from './network-policy.js';
export { DEFAULT_RESOURCES, mergeResources, type Resources } from './resources.js';
export { CONFIG_DIR, CONFIG_FILES, CONTAINERS, PIPE_PATH, SCRATCH_DIR } from './layout.js';
export { WRAPPER_FAILED_EXIT_CODE } from './singer-wrapper.js';
