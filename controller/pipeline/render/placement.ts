/**
 * Where and how the step Pod is placed (pure): node selection, tolerations, affinity, priority,
 * runtime class, pull secrets and service account, from the step, then the plugin's defaults,
 * then (for a Singer pair) the target plugin's. A field set on a step replaces the plugins' value
 * whole; pull secrets are joined, since a pair may pull from two registries. The service account
 * and its token opt-in travel together from the same source, and the token is mounted only on
 * an explicit true.
 */
import type { V1PodSpec } from '@kubernetes/client-node';
import type { AttemptInput } from './attempt-input.js';

type Placement = Pick<
  V1PodSpec,
  | 'nodeSelector'
  | 'tolerations'
  | 'affinity'
  | 'priorityClassName'
  | 'runtimeClassName'
  | 'imagePullSecrets'
  | 'serviceAccountName'
  | 'automountServiceAccountToken'
>;

const REPLACED = [
  'nodeSelector',
  'tolerations',
  'affinity',
  'priorityClassName',
  'runtimeClassName',
] as const;

export function renderPlacement(input: AttemptInput): Placement {
  const sources = [input.step, input.plugin.spec.defaults, input.targetPlugin?.spec.defaults].filter(
    (s) => s !== undefined,
  );
  const out: Placement = {};
  for (const field of REPLACED) {
    const from = sources.find((s) => s[field] !== undefined);
    if (from) Object.assign(out, { [field]: structuredClone(from[field]) });
  }
  const secrets = [...new Set(sources.flatMap((s) => (s.imagePullSecrets ?? []).map((x) => x.name)))];
  if (secrets.length > 0) out.imagePullSecrets = secrets.map((name) => ({ name }));
  const account = sources.find((s) => s.serviceAccountName !== undefined);
  out.automountServiceAccountToken = account?.automountServiceAccountToken === true;
  if (account) out.serviceAccountName = account.serviceAccountName;
  return out;
}

/** The pull policy of a container: the step's, else its plugin's own. */
export function pullPolicyOf(input: AttemptInput, pluginPolicy: string | undefined): string | undefined {
  return input.step.imagePullPolicy ?? pluginPolicy;
}
