/** What the engine benchmark applies: one utility plugin, and one-step pipelines that use it. */
import type { KubeClient } from '../../../controller/apply/kube-client.js';

export const PLUGIN = 'work';

export function pipelinesPath(namespace: string): string {
  return `/apis/flexcore.io/v1alpha1/namespaces/${namespace}/flexpipelines`;
}

export async function createPlugin(kube: KubeClient, namespace: string): Promise<void> {
  await kube.create(`/apis/flexcore.io/v1alpha1/namespaces/${namespace}/flexplugins`, {
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPlugin',
    metadata: { name: PLUGIN },
    spec: { type: 'utility', image: 'example.com/work:1', command: ['work'] },
  });
}

/**
 * A one-step pipeline. `successfulRunsHistoryLimit: 1` makes every run after the first expire
 * the previous run's Pod, as every run of a long-lived pipeline past its limit does: the steady
 * phases measure that Nth run, not runs 2 and 3 that the default limit (3) would still keep.
 */
export async function createPipeline(
  kube: KubeClient,
  namespace: string,
  name: string,
  options: { suspend?: boolean; schedule?: string } = {},
): Promise<void> {
  await kube.create(pipelinesPath(namespace), {
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPipeline',
    metadata: { name },
    spec: {
      steps: [{ name: 'only', plugin: PLUGIN }],
      successfulRunsHistoryLimit: 1,
      ...(options.suspend && { suspend: true }),
      ...(options.schedule && { schedule: options.schedule }),
    },
  });
}
