/**
 * The status API: every route under /api/v1, its OpenAPI document at /api/v1/openapi.json,
 * request metrics, and problem documents for everything that goes wrong.
 */
import express from 'express';
import type { Logger } from '../log.js';
import { version } from '../version.js';
import type { ApiContext } from './api-context.js';
import { API_BASE_PATH } from './api-paths.js';
import { commandRoutes } from './routes/commands.js';
import type { ApiMetrics } from './api-metrics.js';
import type { ApiAuth } from './auth/access.js';
import { openApiDocument } from './openapi.js';
import { route, type Route } from './route.js';
import { apiRouter } from './router.js';
import { eventRoutes } from './routes/events.js';
import { pipelineRoutes } from './routes/pipelines.js';
import { logRoutes } from './routes/logs.js';
import { pluginRoutes } from './routes/plugins.js';
import { runRoutes } from './routes/runs.js';
import { singerStateRoutes } from './routes/singer-state.js';
import { streamRoutes } from './routes/stream.js';
import { statusRoutes } from './routes/status.js';

export const API_BASE = API_BASE_PATH;

export interface StatusApiOptions {
  readonly context: ApiContext;
  readonly auth: ApiAuth;
  readonly logger: Logger;
  readonly metrics?: ApiMetrics;
  /** Check responses against their schemas (tests). */
  readonly validateResponses?: boolean;
}

/** Every route of the API (without the OpenAPI route itself). */
export function apiRoutes(ctx: ApiContext): Route[] {
  return [
    ...statusRoutes(ctx),
    ...pipelineRoutes(ctx),
    ...pluginRoutes(ctx),
    ...runRoutes(ctx),
    ...logRoutes(ctx),
    ...singerStateRoutes(ctx),
    ...eventRoutes(ctx),
    ...streamRoutes(ctx),
    ...commandRoutes(ctx),
  ];
}

export function statusApi(o: StatusApiOptions): express.Router {
  const routes = apiRoutes(o.context);
  const doc: { value?: Record<string, unknown> } = {};
  const openapi = route({
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This document',
    tags: ['meta'],
    responses: { 200: { description: 'The OpenAPI 3.1 document of this API' } },
    handle: () => Promise.resolve({ json: doc.value }),
  });
  const all = [...routes, openapi];
  doc.value = openApiDocument(all, { version: version(), basePath: API_BASE });
  const metrics = o.metrics;
  const root = express.Router();
  root.use(
    API_BASE,
    apiRouter(all, {
      auth: o.auth,
      logger: o.logger,
      validateResponses: o.validateResponses,
      onResponse: metrics && ((op, code, s) => metrics.observe(op, code, s)),
    }),
  );
  return root;
}
