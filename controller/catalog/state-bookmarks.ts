/**
 * Stored Singer state against the catalog a tap syncs with (pure). A bookmark kept on another
 * replication key than the catalog now names (a step changed `replication-key`) is meaningless
 * for the new key, and Singer SDK taps fail on it (comparing an id with a timestamp): that
 * stream's bookmark is dropped, so the stream starts again from nothing. Everything else in
 * the state is passed on as it is.
 */
import type { Json, SingerCatalog } from './singer-catalog.js';

export interface DroppedBookmark {
  readonly stream: string;
  /** The key the bookmark was kept on. */
  readonly was: string;
  /** The key the catalog names now. */
  readonly now: string;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Each stream's replication key in the catalog (stream-level metadata, else the SDK's top-level field). */
function replicationKeys(catalog: SingerCatalog): Map<string, string> {
  const keys = new Map<string, string>();
  for (const s of catalog.streams) {
    const root = s.metadata.find((m) => m.breadcrumb.length === 0)?.metadata['replication-key'];
    const key: Json | undefined = root ?? s.replication_key;
    if (typeof key === 'string' && key !== '') keys.set(s.tap_stream_id, key);
  }
  return keys;
}

export function stateForCatalog(
  state: Record<string, unknown>,
  catalog: SingerCatalog,
): { state: Record<string, unknown>; dropped: DroppedBookmark[] } {
  const bookmarks = state.bookmarks;
  if (!isObject(bookmarks)) return { state, dropped: [] };
  const keys = replicationKeys(catalog);
  const dropped: DroppedBookmark[] = [];
  const kept: Record<string, unknown> = {};
  for (const [stream, bookmark] of Object.entries(bookmarks)) {
    const was = isObject(bookmark) ? bookmark.replication_key : undefined;
    const now = keys.get(stream);
    if (typeof was === 'string' && now !== undefined && was !== now) dropped.push({ stream, was, now });
    else kept[stream] = bookmark;
  }
  return dropped.length === 0 ? { state, dropped } : { state: { ...state, bookmarks: kept }, dropped };
}
