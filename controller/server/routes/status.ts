/** GET /status: this replica — version, role, scopes and their leaders, queue, informers, store, Redis. */
import type { ApiContext } from '../api-context.js';
import { route, type Route } from '../route.js';
import { ControllerStatus } from '../schemas.js';

export function statusRoutes(ctx: ApiContext): Route[] {
  return [
    route({
      method: 'get',
      path: '/status',
      operationId: 'getStatus',
      summary: "This replica's status",
      description:
        'Every replica answers for itself: a standby says which replica leads each scope. Any authenticated caller may ask: it shows no pipeline data.',
      tags: ['controller'],
      responses: { 200: { description: 'The replica', schema: ControllerStatus } },
      access: () => [],
      handle: () => Promise.resolve({ json: ctx.status() }),
    }),
  ];
}
