/**
 * The HTTP server every replica runs: /healthz, /readyz and /metrics, and the status API under
 * /api/v1 when one is given. Liveness only says the process answers; readiness says informers
 * are synced and the event store is reachable.
 */
import type { Server } from 'node:http';
import express from 'express';
import type { Registry } from 'prom-client';

export interface Readiness {
  readiness(): { ready: boolean; checks: Record<string, boolean>; details?: Record<string, unknown> };
}

export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface HttpServerOptions {
  readonly readiness: Readiness;
  readonly registry: Registry;
  /** Port 0 picks a free one. */
  readonly port: number;
  readonly host?: string;
  /** Mounted at the root: the status API's router (it serves /api/v1/... and /health). */
  readonly api?: express.Router;
}

export function httpApp(o: Pick<HttpServerOptions, 'readiness' | 'registry' | 'api'>): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get('/readyz', (_req, res) => {
    const { ready, checks, details } = o.readiness.readiness();
    res.status(ready ? 200 : 503).json({ ready, checks, ...(details && { details }) });
  });
  app.get('/metrics', (_req, res, next) => {
    o.registry
      .metrics()
      .then((text) => res.type(o.registry.contentType).send(text))
      .catch(next);
  });
  if (o.api) app.use(o.api);
  return app;
}

/** Listens on `host:port`. Open connections (streams) are ended on close. */
export async function startHttpServer(o: HttpServerOptions): Promise<HttpServer> {
  const app = httpApp(o);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(o.port, o.host ?? '0.0.0.0', (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : o.port,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
