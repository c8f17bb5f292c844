/**
 * The main job: brings up the local control plane, installs the CRDs, applies the samples
 * (plugins/catalog and docs/samples) and shows them. Keeps running (so you can use kubectl) until Ctrl-C;
 * with --once it stops after showing them.
 */
import { fileURLToPath } from 'node:url';
import { ControlPlane } from './plane/control-plane.js';
import { createRestrictedNamespace, installCrds } from './plane/setup.js';

const NAMESPACE = 'flexcore-demo';
const CATALOG = fileURLToPath(new URL('../plugins/catalog/', import.meta.url));
const SAMPLES = fileURLToPath(new URL('../docs/samples/', import.meta.url));
const once = process.argv.includes('--once');
const t0 = Date.now();
const say = (line: string): void =>
  console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${line}`);

const plane = await ControlPlane.start({ log: say });
let stopping: Promise<void> | undefined;
const shutdown = (): Promise<void> => {
  stopping ??= (async () => {
    say('stopping the control plane');
    await plane.stop();
  })();
  return stopping;
};
// Ctrl-C at any point stops what was started.
const signalled = new Promise<void>((resolve) => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
});
void signalled.then(shutdown);

try {
  say('installing the FlexCore CRDs');
  await installCrds(plane);
  say(`creating namespace ${NAMESPACE} (Pod Security: restricted)`);
  await createRestrictedNamespace(plane, NAMESPACE);
  say('applying plugins/catalog and docs/samples');
  process.stdout.write(await plane.kubectl(['apply', '-n', NAMESPACE, '-f', CATALOG, '-f', SAMPLES]));
  say(`kubectl get flexplugins,flexpipelines -n ${NAMESPACE}`);
  process.stdout.write(await plane.kubectl(['get', 'flexplugins,flexpipelines', '-n', NAMESPACE]));
  console.log(`
The control plane is up. Use it with:
  export KUBECONFIG=${plane.kubeconfigPath}
  ${plane.binDir}/kubectl get flexcore -n ${NAMESPACE}
  ${plane.binDir}/kubectl explain flexpipeline.spec.steps
`);
} catch (err) {
  console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
  await shutdown();
}

if (once || process.exitCode) {
  await shutdown();
} else {
  say('running; press Ctrl-C to stop');
  await signalled;
  await shutdown();
}
