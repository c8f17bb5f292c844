/**
 * Feed events as the API shows them, written straight to JSON text: the event data is copied as
 * PostgreSQL returned it, never parsed and serialized again (the feed and the stream move many
 * events). Log text is left out: it needs `get flexpipelines/log`, the feed does not.
 */
import type { FeedItem } from '../../store/api-queries.js';

/** The data as shown: LogTailCaptured carries tailBytes instead of the tail. */
function dataJson(e: FeedItem): string {
  if (e.type !== 'LogTailCaptured') return e.dataJson;
  const { tail, ...rest } = JSON.parse(e.dataJson) as Record<string, unknown>;
  return JSON.stringify({ ...rest, tailBytes: typeof tail === 'string' ? Buffer.byteLength(tail) : 0 });
}

/** One event as the JSON text of a FeedEvent (schemas.ts). */
export function feedEventJson(e: FeedItem): string {
  const head = JSON.stringify({
    cursor: e.cursor,
    position: e.position,
    stream: e.stream,
    streamVersion: e.streamVersion,
    id: e.id,
    type: e.type,
    recordedAt: e.recordedAt,
    ...(e.namespace !== undefined && { namespace: e.namespace }),
    ...(e.pipeline !== undefined && { pipeline: e.pipeline }),
  });
  return `${head.slice(0, -1)},"data":${dataJson(e)}}`;
}
