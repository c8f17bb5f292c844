/**
 * The NetworkPolicies of a pipeline: one that denies all traffic in and out of its Pods, and
 * one per step whose plugins declare egress, allowing exactly that (plus DNS). Policies add
 * up, so a step Pod may reach what its own step policy allows and nothing else.
 */
import type {
  V1NetworkPolicy,
  V1NetworkPolicyEgressRule,
  V1NetworkPolicySpec,
} from '@kubernetes/client-node';
import type { EgressRule, FlexPipeline, FlexPlugin, Step } from '../../../api/v1alpha1/index.js';
import { LABELS, MANAGED_BY } from '../labels.js';
import { nameOf, namespaceOf, ownerReference, pipelineLabels, pipelineUid } from './metadata.js';

/**
 * Name of the deny-all policy. Both name forms end in a fixed label that the other never ends
 * in, and step names have no dots, so no two pipelines or steps of a namespace can collide
 * (plain `<pipeline>` and `<pipeline>-<step>` would: pipeline `a-b` vs. step `b` of `a`). At
 * most 63 + 9 characters, far within the 253 of a DNS subdomain.
 */
export function denyAllPolicyName(pipeline: string): string {
  return `${pipeline}.deny-all`;
}

/** Name of a step's egress policy: at most 63 + 1 + 40 + 7 characters. */
export function egressPolicyName(pipeline: string, step: string): string {
  return `${pipeline}.${step}.egress`;
}

/** DNS to any destination: resolvers differ between clusters (kube-dns, NodeLocal DNSCache). */
export const DNS_RULE: V1NetworkPolicyEgressRule = {
  ports: [
    { protocol: 'UDP', port: 53 },
    { protocol: 'TCP', port: 53 },
  ],
};

function egressRule(rule: EgressRule): V1NetworkPolicyEgressRule {
  const ports = (rule.ports ?? []).map((p) => ({ protocol: p.protocol, port: p.port }));
  return { to: [{ ipBlock: { cidr: rule.cidr } }], ...(ports.length > 0 ? { ports } : {}) };
}

function hasEgress(plugin: FlexPlugin): boolean {
  return (plugin.spec.sandbox?.egress ?? []).length > 0;
}

/** A policy of the pipeline; `step` narrows it (selector and label) to that step's Pods. */
function policy(
  pipeline: FlexPipeline,
  name: string,
  step: string | undefined,
  rules: Pick<V1NetworkPolicySpec, 'policyTypes' | 'egress'>,
): V1NetworkPolicy {
  const namespace = namespaceOf(pipeline);
  const stepLabel: Record<string, string> = step === undefined ? {} : { [LABELS.step]: step };
  const selector = { [MANAGED_BY.key]: MANAGED_BY.value, [LABELS.pipelineUid]: pipelineUid(pipeline) };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name,
      ...(namespace ? { namespace } : {}),
      labels: { ...pipelineLabels(pipeline), ...stepLabel },
      ownerReferences: [ownerReference(pipeline)],
    },
    spec: { podSelector: { matchLabels: { ...selector, ...stepLabel } }, ...rules },
  };
}

/** The step's egress policy, or undefined when its plugins may not reach anything. */
function stepPolicy(
  pipeline: FlexPipeline,
  step: Step,
  plugins: ReadonlyMap<string, FlexPlugin>,
): V1NetworkPolicy | undefined {
  // A plugin the caller could not find grants nothing: the deny-all policy still holds.
  const names = [step.plugin, ...(step.target ? [step.target.plugin] : [])];
  const own = names.flatMap((n) => plugins.get(n) ?? []).filter(hasEgress);
  if (own.length === 0) return undefined;
  const rules = own.flatMap((p) => (p.spec.sandbox?.egress ?? []).map(egressRule));
  const dns = own.some((p) => p.spec.sandbox?.allowDNS ?? true) ? [DNS_RULE] : [];
  return policy(pipeline, egressPolicyName(nameOf(pipeline), step.name), step.name, {
    policyTypes: ['Egress'],
    egress: [...rules, ...dns],
  });
}

/** All NetworkPolicies of the pipeline: deny-all first, then one per step with egress, in step order. */
export function renderNetworkPolicies(
  pipeline: FlexPipeline,
  plugins: ReadonlyMap<string, FlexPlugin>,
): V1NetworkPolicy[] {
  // No rules at all: nothing in, nothing out.
  const denyAll = policy(pipeline, denyAllPolicyName(nameOf(pipeline)), undefined, {
    policyTypes: ['Ingress', 'Egress'],
  });
  const steps = pipeline.spec.steps.flatMap((s) => stepPolicy(pipeline, s, plugins) ?? []);
  return [denyAll, ...steps];
}
