/** Setting up a fresh control plane for FlexCore: CRDs and Pod-Security-restricted namespaces. */
import { fileURLToPath } from 'node:url';
import { ApiextensionsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { ControlPlane } from './control-plane.js';

export const CRD_DIR = fileURLToPath(new URL('../../crds/', import.meta.url));

/** Applies the checked-in CRDs and waits until the apiserver serves them. */
export async function installCrds(plane: ControlPlane): Promise<void> {
  await plane.kubectl(['apply', '--server-side', '--field-manager=flexcore-dev', '-f', CRD_DIR]);
  // Poll instead of `kubectl wait`, which fails outright while a new CRD has no conditions yet.
  const ext = plane.kubeConfig().makeApiClient(ApiextensionsV1Api);
  const established = async (name: string): Promise<boolean> => {
    const crd = await ext.readCustomResourceDefinition({ name });
    return (crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True');
  };
  const deadline = Date.now() + 60_000;
  while (
    !(await established('flexplugins.flexcore.io')) ||
    !(await established('flexpipelines.flexcore.io'))
  ) {
    if (Date.now() > deadline) throw new Error('the FlexCore CRDs were not Established after 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  // Established comes before the OpenAPI document settles: it is republished a few times as
  // the CRDs' status changes, and kubectl explain fails in between. Wait until it is stable.
  let streak = 0;
  while (streak < 4) {
    const explained = await Promise.all([
      plane.kubectl(['explain', 'flexpipeline.spec.steps']),
      plane.kubectl(['explain', 'flexplugin.spec']),
    ]).then(
      () => true,
      (err: unknown) => {
        if (Date.now() > deadline) throw err;
        return false;
      },
    );
    streak = explained ? streak + 1 : 0;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Creates a namespace that enforces Pod Security "restricted" and waits for its default
 * ServiceAccount (the ServiceAccount admission plugin refuses Pods until it exists).
 * kube-controller-manager makes it; right after kube-apiserver restarts its watches may sit in
 * client-go's reflector backoff (up to 30 s, jittered to twice that), hence the long wait.
 */
export async function createRestrictedNamespace(plane: ControlPlane, name: string): Promise<void> {
  const core = plane.kubeConfig().makeApiClient(CoreV1Api);
  await core.createNamespace({
    body: {
      metadata: {
        name,
        labels: {
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
          'pod-security.kubernetes.io/warn': 'restricted',
        },
      },
    },
  });
  const waitS = 90;
  const deadline = Date.now() + waitS * 1000;
  for (;;) {
    try {
      await core.readNamespacedServiceAccount({ name: 'default', namespace: name });
      return;
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`namespace ${name} got no default ServiceAccount in ${waitS} s: ${String(err)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
