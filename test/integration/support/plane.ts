/**
 * One control plane shared by the integration suites of a mocha run: started on first use,
 * stopped by the root hook in hooks.ts. Suites take their own namespaces. It has the real
 * node too; only Pods that tolerate its taint run there (support/real.ts), the rest on kwok.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import { ControlPlane } from '../../../hack/plane/control-plane.js';
import { createRestrictedNamespace, installCrds } from '../../../hack/plane/setup.js';

let shared: Promise<ControlPlane> | undefined;
/** The started plane, even when setting it up failed afterwards (so the root hook stops it). */
let started: ControlPlane | undefined;

/** The shared control plane, with the FlexCore CRDs installed. */
export async function sharedPlane(): Promise<ControlPlane> {
  shared ??= (async () => {
    const t0 = Date.now();
    // Another test run on this machine may hold the real node: queue behind it rather than fail.
    const plane = await ControlPlane.start({
      realNode: true,
      nodeLockWaitMs: 40 * 60_000,
      log: (l) => {
        if (l.startsWith('waiting for the real node')) console.log(`      (${l})`);
      },
    });
    started = plane;
    console.log(`      (control plane started in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${plane.dir})`);
    await installCrds(plane);
    return plane;
  })();
  return shared;
}

export async function stopSharedPlane(): Promise<void> {
  if (!shared) return;
  await shared.catch(() => undefined);
  const plane = started;
  shared = undefined;
  started = undefined;
  await plane?.stop();
}

let counter = 0;
/** A namespace name unique within this run. */
export function uniqueName(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid}-${counter}`;
}

export interface PlaneNamespace {
  readonly plane: ControlPlane;
  readonly core: CoreV1Api;
  readonly ns: string;
}

/** The shared plane, a core API client, and a new namespace enforcing Pod Security "restricted". */
export async function restrictedNamespace(prefix: string): Promise<PlaneNamespace> {
  const plane = await sharedPlane();
  const ns = uniqueName(prefix);
  await createRestrictedNamespace(plane, ns);
  return { plane, core: plane.kubeConfig().makeApiClient(CoreV1Api), ns };
}
