/**
 * WATCH_NAMESPACE: the namespaces the controller watches, comma-separated as controller-runtime
 * reads it (`team-a,team-b`); unset or empty means all namespaces.
 */
import { DNS_LABEL } from '../api/v1alpha1/kube.js';

/** A WATCH_NAMESPACE entry that is not a namespace name. */
export class WatchNamespaceError extends Error {
  override name = 'WatchNamespaceError';
}

/**
 * The namespaces of a WATCH_NAMESPACE value, in the order given: entries trimmed, empty ones
 * ignored, duplicates dropped. An empty list means all namespaces. Throws WatchNamespaceError
 * naming the first entry that is not a namespace name (a DNS label).
 */
export function parseWatchNamespaces(raw: string | undefined): string[] {
  const namespaces = new Set<string>();
  for (const entry of (raw ?? '').split(',')) {
    const ns = entry.trim();
    if (ns === '') continue;
    if (ns.length > 63 || !DNS_LABEL.test(ns))
      throw new WatchNamespaceError(
        `WATCH_NAMESPACE: "${ns}" is not a namespace name (a DNS label: a-z, 0-9 and -, at most 63 characters)`,
      );
    namespaces.add(ns);
  }
  return [...namespaces];
}

/** The first namespace WATCH_NAMESPACE names, or undefined when it watches all. */
export function firstWatchNamespace(env: NodeJS.ProcessEnv): string | undefined {
  return parseWatchNamespaces(env.WATCH_NAMESPACE)[0];
}
