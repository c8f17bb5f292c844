/**
 * The status a kubelet writes when a Pod's containers have ended with `exitCode`: tests play the
 * kubelet with it on kwok (patched onto the Pod's status subresource, which the kwok stages then
 * leave alone).
 */
export interface PodForStatus {
  readonly spec: { readonly containers: readonly { readonly name: string; readonly image: string }[] };
  readonly status: { readonly startTime?: string };
}

export function finishedPodStatus(
  pod: PodForStatus,
  exitCode: number,
  now = new Date(),
): Record<string, unknown> {
  const at = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const terminated = {
    exitCode,
    reason: exitCode === 0 ? 'Completed' : 'Error',
    startedAt: pod.status.startTime ?? at,
    finishedAt: at,
  };
  return {
    phase: exitCode === 0 ? 'Succeeded' : 'Failed',
    containerStatuses: pod.spec.containers.map((c) => ({
      name: c.name,
      image: c.image,
      imageID: '',
      ready: false,
      restartCount: 0,
      started: false,
      state: { terminated },
    })),
  };
}
