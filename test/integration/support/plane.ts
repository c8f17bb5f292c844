/**
 * One control plane shared by the integration suites of a mocha run: started on first use,
 * stopped by the root hook in hooks.ts. Suites take their own namespaces.
 */
import { ControlPlane } from '../../../hack/plane/control-plane.js';
import { installCrds } from '../../../hack/plane/setup.js';

let shared: Promise<ControlPlane> | undefined;

/** The shared control plane, with the FlexCore CRDs installed. */
export async function sharedPlane(): Promise<ControlPlane> {
  shared ??= (async () => {
    const t0 = Date.now();
    const plane = await ControlPlane.start();
    console.log(`      (control plane started in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${plane.dir})`);
    await installCrds(plane);
    return plane;
  })();
  return shared;
}

export async function stopSharedPlane(): Promise<void> {
  if (!shared) return;
  const plane = await shared.catch(() => undefined);
  shared = undefined;
  await plane?.stop();
}

let counter = 0;
/** A namespace name unique within this run. */
export function uniqueName(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid}-${counter}`;
}
