/** Feed events as the API shows them. Log text is left out: it needs `get flexpipelines/log`, the feed does not. */
import type { FeedItem } from '../../store/api-queries.js';
import type { FeedEvent } from '../schemas.js';

export function feedEventView(e: FeedItem): FeedEvent {
  let data = e.data;
  if (e.type === 'LogTailCaptured' && typeof data.tail === 'string') {
    const { tail, ...rest } = data;
    data = { ...rest, tailBytes: Buffer.byteLength(tail) };
  }
  return {
    cursor: e.cursor,
    position: e.position,
    stream: e.stream,
    streamVersion: e.streamVersion,
    id: e.id,
    type: e.type,
    recordedAt: e.recordedAt.toISOString(),
    ...(e.namespace !== undefined && { namespace: e.namespace }),
    ...(e.pipeline !== undefined && { pipeline: e.pipeline }),
    data,
  };
}
