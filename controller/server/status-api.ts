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
import { executeRoutes } from './routes/execute.js';
import type { ApiMetrics } from './api-metrics.js';
import type { ApiAuth } from './auth/access.js';
import { openApiDocument } from './openapi.js';
import { route, type Route } from './route.js';
import { apiRouter, invokeRoute, type RouterOptions } from './router.js';
import { seedRoutes, type Invoke } from './routes/seed.js';
import { externalEventRoutes } from './routes/external-events.js';
import { eventRoutes } from './routes/events.js';
import { pipelineRoutes } from './routes/pipelines.js';
import { logRoutes } from './routes/logs.js';
import { pluginRoutes } from './routes/plugins.js';
import { runRoutes } from './routes/runs.js';
import { singerStateRoutes } from './routes/singer-state.js';
import { streamRoutes } from './routes/stream.js';
import { summaryRoutes } from './routes/summary.js';
import { statusRoutes } from './routes/status.js';

export interface StatusApiOptions {
  readonly context: ApiContext;
  readonly auth: ApiAuth;
  readonly logger: Logger;
  readonly metrics?: ApiMetrics;
  /** Check responses against their schemas (tests). */
  readonly validateResponses?: boolean;
  /** The namespace of a seed API id without one (FLEXCORE_API_DEFAULT_NAMESPACE; default). */
  readonly defaultNamespace?: string;
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
    ...externalEventRoutes(ctx),
    ...summaryRoutes(ctx),
    ...streamRoutes(ctx),
    ...commandRoutes(ctx),
    ...executeRoutes(ctx),
  ];
}

export function statusApi(o: StatusApiOptions): express.Router {
  const routes = apiRoutes(o.context);
  const options: RouterOptions = {
    auth: o.auth,
    logger: o.logger,
    validateResponses: o.validateResponses,
    onResponse: o.metrics && ((op, code, s) => o.metrics!.observe(op, code, s)),
  };
  const byOperation = new Map(routes.map((r) => [r.operationId, r]));
  const invoke: Invoke = (operationId, input, req, res, payload) =>
    invokeRoute(
      byOperation.get(operationId)!,
      { params: input.params ?? {}, query: input.query ?? {}, body: input.body ?? {} },
      req,
      res,
      options,
      payload,
    );
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
  const all = [...routes, ...seedRoutes(invoke, o.defaultNamespace ?? 'default'), openapi];
  doc.value = openApiDocument(all, { version: version(), basePath: API_BASE_PATH });
  const root = express.Router();
  // The seed's health check: public, like /healthz, with what /readyz checks.
  root.get('/health', (_req, res) => {
    const s = o.context.status();
    const healthy = s.eventStore === 'up' && Object.values(s.informers).every(Boolean);
    res.status(healthy ? 200 : 503).json({
      status: healthy ? 'healthy' : 'unhealthy',
      version: s.version,
      timestamp: new Date().toISOString(),
      checks: { eventStore: s.eventStore, informers: s.informers, redis: s.redis },
    });
  });
  root.use(API_BASE_PATH, apiRouter(all, options));
  return root;
}
