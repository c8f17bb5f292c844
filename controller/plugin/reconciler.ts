/**
 * The FlexPlugin reconciler: validates the spec and reports it in the Ready condition with
 * observedGeneration. Pipelines that use the plugin are requeued by the manager on every
 * plugin change; a change applies to their next Pods, never to running ones.
 */
import type { KubeClient } from '../apply/kube-client.js';
import { isNotFound } from '../kube/api-status-error.js';
import { mergePatch } from '../apply/merge-patch.js';
import type { Clock } from '../clock.js';
import { mergeConditions } from '../conditions.js';
import type { Term } from '../leadership/term.js';
import type { Cache, PluginObject } from '../objects.js';
import { pluginProblem } from '../pipeline/validation.js';
import type { ReconcileResult } from '../reconcile/errors.js';
import type { FlexPluginStatus } from '../../api/v1alpha1/index.js';

export interface PluginReconcilerDeps {
  readonly plugins: Cache<PluginObject>;
  readonly kube: KubeClient;
  readonly clock: Clock;
}

/** The status a plugin should have (pure). */
export function pluginStatus(plugin: PluginObject, now: number): FlexPluginStatus {
  const problem = pluginProblem(plugin);
  const ready = problem
    ? { type: 'Ready', status: 'False' as const, reason: problem.reason, message: problem.message }
    : {
        type: 'Ready',
        status: 'True' as const,
        reason: 'Valid',
        message: 'The plugin can be used by pipelines.',
      };
  // kstatus' Stalled (only when True): an invalid spec cannot be reconciled without a change.
  const stalled = problem
    ? [{ type: 'Stalled', status: 'True' as const, reason: problem.reason, message: problem.message }]
    : [];
  const generation = plugin.metadata.generation;
  return {
    observedGeneration: generation,
    conditions: mergeConditions(plugin.status?.conditions, [ready, ...stalled], generation, now),
  };
}

export class PluginReconciler {
  constructor(private readonly deps: PluginReconcilerDeps) {}

  readonly reconcile = async (key: string, term: Term): Promise<ReconcileResult | void> => {
    const plugin = this.deps.plugins.get(key);
    if (!plugin) return;
    const status = pluginStatus(plugin, this.deps.clock.now());
    const patch = mergePatch(plugin.status ?? {}, JSON.parse(JSON.stringify(status)));
    if (patch === undefined) return;
    const { namespace, name } = plugin.metadata;
    try {
      await this.deps.kube.patch(
        `/apis/flexcore.io/v1alpha1/namespaces/${namespace}/flexplugins/${name}/status`,
        {
          status: patch,
        },
        'merge',
        term,
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  };
}
