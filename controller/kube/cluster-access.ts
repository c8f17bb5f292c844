/**
 * Where the Kubernetes API is and how this process authenticates to it.
 *
 * The controller reads this itself instead of through client-node's KubeConfig: importing
 * KubeConfig loads client-node's whole generated API client, about 75 MiB of resident memory,
 * half of the controller's baseline, for a server URL, TLS material and a token. A kubeconfig
 * whose user runs an `exec` credential plugin or an `auth-provider` still goes through
 * client-node (loaded only then), since those need its plugin machinery.
 */
import net from 'node:net';
import path from 'node:path';
import type https from 'node:https';
import { parse } from 'yaml';

/** What the kube client and the informers use; client-node's KubeConfig fits it too. */
export interface ClusterAccess {
  getCurrentCluster(): { readonly server: string } | null;
  /** Adds TLS material and auth headers to `options`; token files are read on each call. */
  applyToHTTPSOptions(options: https.RequestOptions): Promise<void>;
}

export class KubeconfigError extends Error {
  override readonly name = 'KubeconfigError';
}

/** Bytes inline (`*-data`, base64) or in a file; the inline form wins, as in kubectl. */
type Material = { readonly data: string } | { readonly file: string };

/** A kubeconfig's current context, resolved: everything applyToHTTPSOptions needs. */
export interface StaticAccess {
  readonly server: string;
  readonly ca?: Material;
  readonly cert?: Material;
  readonly key?: Material;
  readonly token?: string;
  readonly tokenFile?: string;
  readonly basic?: { readonly username: string; readonly password: string };
  readonly impersonate?: string;
  readonly insecureSkipTLSVerify: boolean;
  readonly tlsServerName?: string;
}

/** The user's authentication needs client-node: the reason, for the log. */
export interface NeedsPlugin {
  readonly plugin: 'exec' | 'auth-provider';
}

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** In-cluster access from the service account's mounted token and CA (client-go's rules). */
export function inClusterAccess(env: NodeJS.ProcessEnv, prefix = ''): StaticAccess {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port)
    throw new KubeconfigError(
      'not running in a cluster (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are unset) and KUBECONFIG is unset',
    );
  return {
    server: `https://${net.isIPv6(host) ? `[${host}]` : host}:${port}`,
    ca: { file: `${prefix}${SERVICE_ACCOUNT}/ca.crt` },
    // Projected tokens rotate: read the file, never keep its content.
    tokenFile: `${prefix}${SERVICE_ACCOUNT}/token`,
    insecureSkipTLSVerify: false,
  };
}

type Doc = Record<string, unknown>;

function record(value: unknown, what: string): Doc {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new KubeconfigError(`${what} is not a mapping`);
  return value as Doc;
}

function named(doc: Doc, list: string, name: string, field: string): Doc {
  const entries = doc[list] ?? [];
  if (!Array.isArray(entries)) throw new KubeconfigError(`${list} is not a list`);
  const entry = (entries as unknown[]).find((e) => record(e, `an entry of ${list}`).name === name);
  if (entry === undefined) throw new KubeconfigError(`${list} has no entry named "${name}"`);
  return record((entry as Doc)[field], `${list}["${name}"].${field}`);
}

function str(doc: Doc, key: string): string | undefined {
  const v = doc[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new KubeconfigError(`${key} is not a string`);
  return v;
}

function material(doc: Doc, fileKey: string, dir: string): Material | undefined {
  const data = str(doc, `${fileKey}-data`);
  if (data !== undefined) return { data };
  const file = str(doc, fileKey);
  return file === undefined ? undefined : { file: path.resolve(dir, file) };
}

/**
 * Resolves the current context of a kubeconfig document. Relative file names are relative to
 * `dir`, the kubeconfig's folder, as kubectl reads them.
 */
export function accessFromKubeconfig(text: string, dir: string): StaticAccess | NeedsPlugin {
  let doc: Doc;
  try {
    doc = record(parse(text) ?? {}, 'the kubeconfig');
  } catch (err) {
    if (err instanceof KubeconfigError) throw err;
    throw new KubeconfigError(`the kubeconfig is not YAML: ${(err as Error).message}`);
  }
  const contextName = str(doc, 'current-context');
  if (contextName === undefined) throw new KubeconfigError('the kubeconfig has no current-context');
  const context = named(doc, 'contexts', contextName, 'context');
  const clusterName = str(context, 'cluster');
  if (clusterName === undefined) throw new KubeconfigError(`context "${contextName}" names no cluster`);
  const cluster = named(doc, 'clusters', clusterName, 'cluster');
  const userName = str(context, 'user');
  const user = userName === undefined ? {} : named(doc, 'users', userName, 'user');
  if (user.exec !== undefined) return { plugin: 'exec' };
  if (user['auth-provider'] !== undefined) return { plugin: 'auth-provider' };
  const server = str(cluster, 'server');
  if (server === undefined) throw new KubeconfigError(`cluster "${clusterName}" has no server`);
  if (str(cluster, 'proxy-url') !== undefined)
    throw new KubeconfigError(
      `cluster "${clusterName}" sets proxy-url, which the controller does not support`,
    );
  const username = str(user, 'username');
  const password = str(user, 'password');
  return {
    server,
    ca: material(cluster, 'certificate-authority', dir),
    cert: material(user, 'client-certificate', dir),
    key: material(user, 'client-key', dir),
    token: str(user, 'token'),
    tokenFile: ((f) => (f === undefined ? undefined : path.resolve(dir, f)))(str(user, 'tokenFile')),
    basic: username !== undefined ? { username, password: password ?? '' } : undefined,
    impersonate: str(user, 'as'),
    insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: str(cluster, 'tls-server-name'),
  };
}

/** Reads a file's bytes; a seam so the options are testable without files. */
export type ReadFile = (file: string) => Buffer;

/** HTTPS options for `access`, reading files through `readFile` on every call. */
export function httpsOptionsFor(access: StaticAccess, readFile: ReadFile): https.RequestOptions {
  const bytes = (m: Material | undefined): Buffer | undefined =>
    m === undefined ? undefined : 'data' in m ? Buffer.from(m.data, 'base64') : readFile(m.file);
  const headers: Record<string, string> = {};
  const token =
    access.token ?? (access.tokenFile ? readFile(access.tokenFile).toString('utf8').trim() : undefined);
  if (token) headers.Authorization = `Bearer ${token}`;
  else if (access.basic)
    headers.Authorization = `Basic ${Buffer.from(`${access.basic.username}:${access.basic.password}`).toString('base64')}`;
  if (access.impersonate) headers['Impersonate-User'] = access.impersonate;
  const options: https.RequestOptions = { headers };
  const ca = bytes(access.ca);
  const cert = bytes(access.cert);
  const key = bytes(access.key);
  if (ca) options.ca = ca;
  if (cert) options.cert = cert;
  if (key) options.key = key;
  if (access.insecureSkipTLSVerify) options.rejectUnauthorized = false;
  if (access.tlsServerName) options.servername = access.tlsServerName;
  return options;
}

/** A resolved StaticAccess as a ClusterAccess. */
export function staticClusterAccess(access: StaticAccess, readFile: ReadFile): ClusterAccess {
  return {
    getCurrentCluster: () => ({ server: access.server }),
    applyToHTTPSOptions: (options) => {
      const { headers, ...tls } = httpsOptionsFor(access, readFile);
      Object.assign(options, tls);
      options.headers = { ...(options.headers as Record<string, string> | undefined), ...headers };
      return Promise.resolve();
    },
  };
}
