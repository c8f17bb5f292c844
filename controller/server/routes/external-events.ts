/**
 * POST /events: an event from outside FlexCore (a source system saying a batch is ready, say),
 * appended to its own stream external-<source> — never to a pipeline's — so the feed and the
 * live stream carry it to whoever follows them. Types the engine records are refused.
 */
import { randomUUID } from 'node:crypto';
import { isProjectedType } from '../../store/event-types.js';
import type { ApiContext } from '../api-context.js';
import { ApiProblem, badRequest } from '../problem.js';
import { route, type Route } from '../route.js';
import { ExternalEventBody, ExternalEventRecorded } from '../schemas.js';

export function externalEventRoutes(ctx: ApiContext): Route[] {
  return [
    route({
      method: 'post',
      path: '/events',
      operationId: 'appendExternalEvent',
      summary: 'Record an external event',
      description:
        'Appends to stream external-<source>, with the caller in its metadata. Needs `create flexpipelines/events` at the cluster scope (a virtual subresource). The data is at most 16 KiB of JSON.',
      tags: ['events'],
      body: ExternalEventBody,
      responses: { 201: { description: 'Recorded', schema: ExternalEventRecorded } },
      access: () => [{ verb: 'create', resource: 'flexpipelines', subresource: 'events' }],
      handle: async ({ body, caller }) => {
        if (isProjectedType(body.type)) {
          throw badRequest([
            {
              in: 'body',
              name: 'type',
              reason: `${body.type} is an event the engine records; pick another type`,
            },
          ]);
        }
        if (!ctx.events)
          throw new ApiProblem(503, 'events-unavailable', 'this replica does not record events');
        const stream = `external-${body.source}`;
        const id = body.id ?? randomUUID();
        const recorded = await ctx.events.append(stream, {
          id,
          type: body.type,
          data: body.data,
          metadata: { source: body.source, requestedBy: caller.username },
        });
        return { status: 201, json: { stream, id, ...recorded } };
      },
    }),
  ];
}
