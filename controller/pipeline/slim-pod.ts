/**
 * What the controller keeps of each Pod it owns: the fields `observePod` and the Pod index
 * read, nothing else. A rendered Pod carries its whole sandbox, resources, volumes and
 * managedFields; at thousands of Pods that is most of the controller's memory.
 */
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';

function slimStatus(s: V1ContainerStatus): V1ContainerStatus {
  return { name: s.name, state: s.state } as V1ContainerStatus;
}

/** The Pod trimmed to identity, labels, container names and the status the planner reads. */
export function slimPod(pod: V1Pod): V1Pod {
  const m = pod.metadata ?? {};
  const status = pod.status ?? {};
  return {
    apiVersion: pod.apiVersion,
    kind: pod.kind,
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      labels: m.labels,
      ...(m.deletionTimestamp !== undefined && { deletionTimestamp: m.deletionTimestamp }),
    },
    spec: { containers: (pod.spec?.containers ?? []).map((c) => ({ name: c.name })) },
    status: {
      phase: status.phase,
      reason: status.reason,
      startTime: status.startTime,
      containerStatuses: status.containerStatuses?.map(slimStatus),
    },
  };
}

/**
 * Whether a Pod update can change what the planner decides: its slim form changed beyond the
 * resource version. Scheduling, conditions and IPs move the resource version of a Pod several
 * times per run and change nothing the planner reads; reconciling for each of them was a
 * visible share of the controller's CPU per run. The same object again (a resync) counts.
 */
export function podUpdateMatters(before: V1Pod, after: V1Pod): boolean {
  if (before === after) return true;
  const unversioned = (pod: V1Pod): string =>
    JSON.stringify({ ...pod, metadata: { ...pod.metadata, resourceVersion: undefined } });
  return unversioned(before) !== unversioned(after);
}
