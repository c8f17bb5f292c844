/** GET /events: the global event feed in commit order, from a cursor (the store's visibility-safe feed). */
import { FEED_START, formatCursor, parseCursor, type FeedCursor } from '../../store/cursor.js';
import type { Access } from '../auth/access.js';
import type { ApiContext } from '../api-context.js';
import { badRequest } from '../problem.js';
import { route, type Route } from '../route.js';
import { FeedPage, FeedQuery } from '../schemas.js';
import { feedEventJson } from '../views/feed-view.js';

/** What reading the feed needs: pipelines of the namespace asked for, or of every namespace. */
export function feedAccess(q: { namespace?: string }): Access[] {
  return [
    { verb: 'list', resource: 'flexpipelines', ...(q.namespace !== undefined && { namespace: q.namespace }) },
  ];
}

/** The cursor of `after` (or Last-Event-ID); 400 naming `name` when it is not one. */
export function cursorParam(value: string | undefined, name: string, where: 'query' | 'header'): FeedCursor {
  if (value === undefined || value === '') return FEED_START;
  const c = parseCursor(value);
  if (!c)
    throw badRequest([{ in: where, name, reason: 'is not a feed cursor (an event id such as 1234.56)' }]);
  return c;
}

export function feedFilter(q: Omit<FeedQuery, 'limit'>): {
  stream?: string;
  types?: string[];
  namespace?: string;
  pipeline?: string;
} {
  if (q.pipeline !== undefined && q.namespace === undefined) {
    throw badRequest([{ in: 'query', name: 'pipeline', reason: 'needs namespace too' }]);
  }
  return {
    stream: q.stream,
    types: q.type?.split(','),
    namespace: q.namespace,
    pipeline: q.pipeline,
  };
}

export function eventRoutes(ctx: ApiContext): Route[] {
  return [
    route({
      method: 'get',
      path: '/events',
      operationId: 'listEvents',
      summary: 'The event feed after a cursor',
      description:
        'Every recorded event in commit order. A late commit is never skipped: the feed stops below the oldest transaction still running. Continue with `after=nextCursor`. Log text is not in the feed (LogTailCaptured carries tailBytes); read it from the log endpoint.',
      tags: ['events'],
      query: FeedQuery,
      responses: { 200: { description: 'A page of events', schema: FeedPage } },
      access: ({ query }) => feedAccess(query),
      handle: async ({ query }) => {
        const page = await ctx.queries.feed(
          cursorParam(query.after, 'after', 'query'),
          feedFilter(query),
          query.limit,
        );
        const items = page.items.map(feedEventJson).join(',');
        return { rawJson: `{"items":[${items}],"nextCursor":${JSON.stringify(formatCursor(page.next))}}` };
      },
    }),
  ];
}
