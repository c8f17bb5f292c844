/**
 * Where the API commands connect and as whom: the URL and token from flags, else the
 * environment, else (token and namespace) the current kubeconfig context — so a user who can
 * `kubectl get flexpipelines` needs nothing more than FLEXCORE_API_URL.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { existsSync, readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { delimiter, join } from 'node:path';
import { CliError, UsageError } from './errors.js';

export interface Connection {
  /** Base URL of the controller's HTTP port (the API is under /api/v1 of it). */
  readonly server: string;
  /** Bearer token; none when the API runs with --api-auth=none. */
  readonly token?: string;
  readonly namespace: string;
}

export interface ConnectionFlags {
  readonly server?: string;
  readonly token?: string;
  readonly namespace?: string;
}

/** What the kubeconfig contributes: its current user's bearer token and its context's namespace. */
export interface KubeCredentials {
  readonly token?: string;
  readonly namespace?: string;
}

/** The kubeconfig could not be read, or its user's token could not be obtained. */
export class KubeconfigError extends CliError {
  override name = 'KubeconfigError';
}

const DEFAULT_NAMESPACE = 'default';

const given = (s: string | undefined): string | undefined => (s === undefined || s === '' ? undefined : s);

/** The --server / FLEXCORE_API_URL value as a URL without a trailing slash; UsageError when absent or bad. */
export function serverUrl(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const raw = given(flag) ?? given(env.FLEXCORE_API_URL);
  if (raw === undefined) {
    throw new UsageError(
      "no API server: give --server URL or set FLEXCORE_API_URL (the controller's HTTP port, e.g. http://localhost:8080)",
    );
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--server (FLEXCORE_API_URL) must be an http(s) URL, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--server (FLEXCORE_API_URL) must be an http(s) URL, got "${raw}"`);
  }
  return url.href.replace(/\/+$/, '');
}

/**
 * Resolves the connection. `kube` is asked only when the flags and environment leave the token
 * or the namespace open, so a broken kubeconfig never stands in the way of explicit flags.
 */
export async function resolveConnection(
  flags: ConnectionFlags,
  env: NodeJS.ProcessEnv,
  kube: (wantToken: boolean) => Promise<KubeCredentials>,
): Promise<Connection> {
  const server = serverUrl(flags.server, env);
  const token = given(flags.token) ?? given(env.FLEXCORE_TOKEN);
  if (flags.namespace === '') throw new UsageError('-n needs a namespace');
  const namespace = given(flags.namespace);
  const fromKube = token === undefined || namespace === undefined ? await kube(token === undefined) : {};
  const bearer = token ?? fromKube.token;
  return {
    server,
    ...(bearer !== undefined && { token: bearer }),
    namespace: namespace ?? fromKube.namespace ?? DEFAULT_NAMESPACE,
  };
}

/** The kubeconfig files kubectl would read: $KUBECONFIG's list, else ~/.kube/config. */
export function kubeconfigPaths(env: NodeJS.ProcessEnv, home: string | undefined): string[] {
  const list = given(env.KUBECONFIG);
  if (list !== undefined) return list.split(delimiter).filter((p) => p !== '');
  return home ? [join(home, '.kube', 'config')] : [];
}

/** The files that exist, merged as kubectl merges them: the first to set a name (or the context) wins. */
export function loadKubeConfig(paths: readonly string[]): KubeConfig | undefined {
  let merged: KubeConfig | undefined;
  for (const path of paths.filter((p) => existsSync(p))) {
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(path);
    } catch (err) {
      throw new KubeconfigError(`cannot read the kubeconfig ${path}: ${(err as Error).message}`);
    }
    if (!merged) {
      merged = kc;
      continue;
    }
    for (const c of kc.getClusters()) if (!merged.getCluster(c.name)) merged.addCluster(c);
    for (const u of kc.getUsers()) if (!merged.getUser(u.name)) merged.addUser(u);
    for (const x of kc.getContexts()) if (!merged.getContextObject(x.name)) merged.addContext(x);
    if (!merged.getCurrentContext()) merged.setCurrentContext(kc.getCurrentContext());
  }
  return merged;
}

/** The current user's bearer token: a static one, or what its exec plugin or auth provider yields. */
export async function bearerTokenOf(kc: KubeConfig): Promise<string | undefined> {
  const user = kc.getCurrentUser();
  if (!user) return undefined;
  if (user.token) return user.token;
  if (!user.exec && !user.authProvider) return undefined; // client certificates: the API takes tokens only
  const options: RequestOptions = {};
  try {
    await kc.applyToHTTPSOptions(options);
  } catch (err) {
    throw new KubeconfigError(
      `cannot get a token for kubeconfig user "${user.name}": ${(err as Error).message}`,
    );
  }
  const headers = (options.headers ?? {}) as Record<string, unknown>;
  const header = headers.Authorization ?? headers.authorization;
  const m = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return m?.[1];
}

/** Where a Pod finds its service account's token and namespace. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * Inside a Pod with no kubeconfig (a Job, the chart's `helm test`): its service account's
 * token and namespace, as kubectl's in-cluster config reads them. Read each time: the kubelet
 * rotates the token file.
 */
export function serviceAccountCredentials(dir: string, wantToken: boolean): KubeCredentials {
  const read = (file: string): string | undefined => {
    try {
      return readFileSync(join(dir, file), 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  };
  const token = wantToken ? read('token') : undefined;
  const namespace = read('namespace');
  return { ...(token && { token }), ...(namespace && { namespace }) };
}

/**
 * Namespace (and, when `wantToken`, token) of the current context of the kubeconfig in `env`;
 * with no kubeconfig, those of the Pod's service account when running in one, else nothing.
 * An exec plugin runs only when the token is wanted.
 */
export async function kubeCredentials(
  env: NodeJS.ProcessEnv,
  home: string | undefined,
  wantToken: boolean,
  serviceAccountDir = SERVICE_ACCOUNT_DIR,
): Promise<KubeCredentials> {
  const kc = loadKubeConfig(kubeconfigPaths(env, home));
  if (!kc) return serviceAccountCredentials(serviceAccountDir, wantToken);
  const namespace = kc.getContextObject(kc.getCurrentContext())?.namespace;
  const token = wantToken ? await bearerTokenOf(kc) : undefined;
  return { ...(token && { token }), ...(namespace && { namespace }) };
}
