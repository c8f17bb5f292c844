/** Loads the controller's ClusterAccess from KUBECONFIG or, unset, the in-cluster service account. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  accessFromKubeconfig,
  inClusterAccess,
  KubeconfigError,
  staticClusterAccess,
  type ClusterAccess,
} from './cluster-access.js';

export async function loadClusterAccess(env: NodeJS.ProcessEnv): Promise<ClusterAccess> {
  const file = env.KUBECONFIG;
  if (!file) return staticClusterAccess(inClusterAccess(env), (f) => readFileSync(f));
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new KubeconfigError(`cannot read KUBECONFIG ${file}: ${(err as Error).message}`);
  }
  const access = accessFromKubeconfig(text, path.dirname(path.resolve(file)));
  if ('plugin' in access) {
    // Credential plugins need client-node's machinery; only such kubeconfigs pay for loading it.
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    kc.loadFromFile(file);
    return kc;
  }
  return staticClusterAccess(access, (f) => readFileSync(f));
}
