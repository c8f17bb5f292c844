/** Plain Pods for tests of the plane itself: admitted under Pod Security "restricted", run by kwok. */
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';

/** A Pod that passes Pod Security "restricted", with one container per name. */
export function restrictedPod(
  name: string,
  {
    annotations = {},
    containers = ['main'],
  }: { annotations?: Record<string, string>; containers?: string[] } = {},
): V1Pod {
  return {
    metadata: { name, annotations },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
      containers: containers.map((c) => ({
        name: c,
        image: 'example.com/plugin:1',
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        },
        resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
      })),
    },
  };
}

/** True once the Pod ended. */
export const finished = (pod: V1Pod): boolean => ['Succeeded', 'Failed'].includes(pod.status?.phase ?? '');

/** Polls the Pod until `done` says so; fails after `timeoutMs`. */
export async function waitForPod(
  core: CoreV1Api,
  namespace: string,
  name: string,
  done: (pod: V1Pod) => boolean,
  timeoutMs = 30_000,
): Promise<V1Pod> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pod = await core.readNamespacedPod({ name, namespace });
    if (done(pod)) return pod;
    if (Date.now() > deadline)
      throw new Error(
        `pod ${name} still ${pod.status?.phase} (${pod.spec?.nodeName ? `on ${pod.spec.nodeName}` : 'not scheduled'}) after ${timeoutMs} ms`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}
