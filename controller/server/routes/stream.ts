/** GET /stream: the feed live, as server-sent events that resume exactly from Last-Event-ID on any replica. */
import { DEFAULT_STREAM_SETTINGS, type ApiContext } from '../api-context.js';
import { ApiProblem } from '../problem.js';
import { route, type Route } from '../route.js';
import { StreamQuery } from '../schemas.js';
import { StreamClient } from '../stream/stream-client.js';
import { cursorParam, feedAccess, feedFilter } from './events.js';

export function streamRoutes(ctx: ApiContext): Route[] {
  const settings = ctx.stream ?? DEFAULT_STREAM_SETTINGS;
  return [
    route({
      method: 'get',
      path: '/stream',
      operationId: 'streamEvents',
      summary: 'The event feed, live (server-sent events)',
      description:
        'Each event is sent with `id:` = its feed cursor and `event:` = its type. Reconnect with the Last-Event-ID header (browsers do it by themselves) to this or any other replica and get exactly the events missed. A comment line every 15 s keeps the connection open; a client that falls more than a bounded buffer behind is cut off and resumes from its last id. Without Last-Event-ID (or `after`) the stream starts now.',
      tags: ['events'],
      query: StreamQuery,
      responses: { 200: { description: 'The stream', contentType: 'text/event-stream' } },
      access: ({ query }) => feedAccess(query),
      handle: ({ query, req, res, recheck }) => {
        const hub = ctx.hub;
        const lastEventId = req.get('last-event-id');
        const from =
          lastEventId !== undefined
            ? cursorParam(lastEventId, 'Last-Event-ID', 'header')
            : query.after !== undefined
              ? cursorParam(query.after, 'after', 'query')
              : hub?.position;
        if (!hub || !from) {
          throw new ApiProblem(
            503,
            'stream-unavailable',
            'the live stream is starting: the event store has not answered yet',
            {},
            { 'Retry-After': '2' },
          );
        }
        settings.onOpen?.();
        new StreamClient({
          hub,
          queries: ctx.queries,
          filter: feedFilter(query),
          from,
          res,
          maxBufferedBytes: settings.maxBufferedBytes,
          heartbeatMs: settings.heartbeatMs,
          recheckMs: settings.recheckMs,
          stillAllowed: recheck,
          onEnd: (reason) => settings.onEnd?.(reason),
        }).start();
        return Promise.resolve('streamed');
      },
    }),
  ];
}
