/**
 * /healthz, /readyz and /metrics, served by every replica. Liveness only says the process
 * answers; readiness says informers are synced and the event store is reachable.
 */
import type { Server } from 'node:http';
import express from 'express';
import type { Registry } from 'prom-client';

export interface Readiness {
  readiness(): { ready: boolean; checks: Record<string, boolean>; details?: Record<string, unknown> };
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export function healthApp(target: Readiness, registry: Registry): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok\n');
  });
  app.get('/readyz', (_req, res) => {
    const { ready, checks, details } = target.readiness();
    res.status(ready ? 200 : 503).json({ ready, checks, ...(details && { details }) });
  });
  app.get('/metrics', (_req, res, next) => {
    registry
      .metrics()
      .then((text) => res.type(registry.contentType).send(text))
      .catch(next);
  });
  return app;
}

/** Listens on `host:port` (port 0 picks a free one). */
export async function startHealthServer(
  target: Readiness,
  registry: Registry,
  port: number,
  host = '0.0.0.0',
): Promise<HealthServer> {
  const app = healthApp(target, registry);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(port, host, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
