/**
 * Captures the testdata of the Argo CD health checks from real controller output: starts a
 * local control plane (kwok, no real node), PostgreSQL and the controller, drives FlexPlugins
 * and FlexPipelines through their states (lifecycle.ts) and writes each live object to
 * charts/argocd/resource_customizations/flexcore.io/<Kind>/testdata/<state>.yaml.
 *
 *   npx tsx hack/gitops/capture-health-testdata.ts
 *
 * Objects are written as the apiserver returned them, but for managedFields and
 * resourceVersion (dropped), the namespace (always "data") and the uid (derived from kind and
 * name, also inside run ids), so a new capture differs from the last only in timestamps.
 */
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { GitopsWorld, driveLifecycle, type KubeObject, type Reached } from './lifecycle.js';

/** Where Argo CD's layout keeps the checks of the group flexcore.io. */
const CUSTOMIZATIONS = fileURLToPath(
  new URL('../../charts/argocd/resource_customizations/flexcore.io/', import.meta.url),
);

/** A stable uid for an object: the same kind and name always give the same one. */
function stableUid(kind: string, name: string): string {
  const h = createHash('sha256').update(`${kind}/${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The object without what changes on every capture and means nothing to a health check. */
function normalize(o: KubeObject): KubeObject {
  const { managedFields: _m, resourceVersion: _r, ...metadata } = o.metadata;
  const uid = stableUid(o.kind, o.metadata.name);
  const text = JSON.stringify({ ...o, metadata: { ...metadata, namespace: 'data' } })
    .replaceAll(o.metadata.uid, uid)
    .replaceAll(o.metadata.uid.slice(0, 8), uid.slice(0, 8));
  return JSON.parse(text) as KubeObject;
}

async function write({ kind, state, object }: Reached): Promise<void> {
  const dir = `${CUSTOMIZATIONS}${kind}/testdata/`;
  await mkdir(dir, { recursive: true });
  const header =
    `# ${kind} "${state}": the live object, from a local plane running the controller.\n` +
    '# Captured by hack/gitops/capture-health-testdata.ts; do not edit by hand.\n';
  await writeFile(`${dir}${state}.yaml`, header + stringify(normalize(object), { lineWidth: 0 }));
  console.log(`wrote ${kind}/testdata/${state}.yaml`);
}

async function main(): Promise<void> {
  const world = await GitopsWorld.start((line) => console.log(`  plane: ${line}`));
  try {
    await driveLifecycle(world, write);
  } finally {
    await world.stop();
  }
}

await main();
