/**
 * A PersistentVolumeClaim bound to a hostPath PersistentVolume on this machine, so what a step
 * wrote can be read after its Pod is gone. (A hostPath PersistentVolume is an administrator's
 * object; the Pod only names the claim, which Pod Security "restricted" allows.)
 */
import { chown, mkdir } from 'node:fs/promises';
import type { ControlPlane } from '../plane/control-plane.js';

/** The user id FlexCore runs plugins as by default. */
export const SANDBOX_UID = 65532;

/** Creates directory `dir` (owned by the sandbox user) and claim `name` in `namespace` on it. */
export async function hostPathClaim(
  plane: ControlPlane,
  namespace: string,
  name: string,
  dir: string,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await chown(dir, SANDBOX_UID, SANDBOX_UID);
  const pv = `${namespace}-${name}`;
  const storageClassName = 'flexcore-local-hostpath';
  await plane.kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'v1',
          kind: 'PersistentVolume',
          metadata: { name: pv },
          spec: {
            capacity: { storage: '1Gi' },
            accessModes: ['ReadWriteOnce'],
            persistentVolumeReclaimPolicy: 'Retain',
            storageClassName,
            hostPath: { path: dir, type: 'Directory' },
            claimRef: { namespace, name },
          },
        },
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name, namespace },
          spec: {
            accessModes: ['ReadWriteOnce'],
            storageClassName,
            volumeName: pv,
            resources: { requests: { storage: '1Gi' } },
          },
        },
      ],
    }),
  );
  const deadline = Date.now() + 60_000;
  while (
    (await plane.kubectl(['-n', namespace, 'get', 'pvc', name, '-o', 'jsonpath={.status.phase}'])) !== 'Bound'
  ) {
    if (Date.now() > deadline)
      throw new Error(`PersistentVolumeClaim ${namespace}/${name} was not Bound after 60 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
