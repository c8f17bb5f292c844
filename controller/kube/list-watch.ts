/**
 * The informer's edge: one page of a list, and one watch connection. HttpListWatch talks to
 * the apiserver; tests pass their own, or wrap the real one to inject faults.
 */
import type { KubernetesObject } from '@kubernetes/client-node';

export interface ListQuery {
  readonly labelSelector?: string;
  /** Page size. */
  readonly limit: number;
  /** The continue token of the previous page. */
  readonly continue?: string;
}

export interface ListPage {
  /** The list's own apiVersion and kind (e.g. v1, ConfigMapList); items from a list lack theirs. */
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly items: readonly KubernetesObject[];
  /** The snapshot the list was read at; a watch continues from here. */
  readonly resourceVersion: string;
  /** Set when more pages follow. */
  readonly continue?: string;
}

export interface WatchQuery {
  readonly labelSelector?: string;
  readonly resourceVersion: string;
  /** The server closes the watch after this long, so connections are renewed regularly. */
  readonly timeoutSeconds: number;
  readonly allowWatchBookmarks: boolean;
}

/** ADDED, MODIFIED, DELETED or BOOKMARK; ERROR events end the watch instead (see `closed`). */
export interface WatchEvent {
  readonly type: string;
  readonly object: KubernetesObject;
}

export interface WatchObserver {
  event(event: WatchEvent): void;
  /**
   * Called exactly once when the watch is over: `error` undefined when the server ended it
   * cleanly, an ApiStatusError for an ERROR event or an HTTP error (410 among them), any other
   * error for a broken connection, a malformed stream or `abort()`.
   */
  closed(error: Error | undefined): void;
}

export interface WatchHandle {
  /** Ends the watch now, whatever state its connection is in; `closed` follows at once. */
  abort(): void;
}

export interface ListWatch {
  /** One page of the collection. Rejects with ApiStatusError for an error Status. */
  list(query: ListQuery, signal: AbortSignal): Promise<ListPage>;
  /** Opens a watch; events and the end are reported to `observer`. */
  watch(query: WatchQuery, observer: WatchObserver): WatchHandle;
}
