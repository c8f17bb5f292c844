/** When a node can take Pods: Ready, and the node-lifecycle controller's not-ready taints lifted. */
import type { V1Node } from '@kubernetes/client-node';

export function isSchedulable(node: V1Node): boolean {
  const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const tainted = (node.spec?.taints ?? []).some((t) => t.key.startsWith('node.kubernetes.io/'));
  return ready && !tainted;
}
