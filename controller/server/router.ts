/**
 * Mounts declared routes on an express router: parses and validates path, query and body with
 * the route's zod schemas (400 naming the parameter), authenticates and authorizes (401, 403
 * naming the permission), runs the handler and turns every failure into a problem document —
 * a store outage into 503 with Retry-After. Handlers stay thin: they never see bad input.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { z } from 'zod';
import type { Logger } from '../log.js';
import { isApiStatusError } from '../kube/api-status-error.js';
import { isUnavailable } from '../store/errors.js';
import { describeAccess, type ApiAuth, type Caller } from './auth/access.js';
import {
  ApiProblem,
  PROBLEM_CONTENT_TYPE,
  badRequest,
  storeUnavailable,
  type InvalidParam,
} from './problem.js';
import type { Reply, Route } from './route.js';

export interface RouterOptions {
  readonly auth: ApiAuth;
  readonly logger: Logger;
  /** Largest request body accepted, in bytes (64 KiB). */
  readonly bodyLimitBytes?: number;
  /** Check every JSON response against its schema (tests): a mismatch answers 500. */
  readonly validateResponses?: boolean;
  /** Called once per request with the route's operation id and the status sent. */
  readonly onResponse?: (operationId: string, status: number, seconds: number) => void;
}

/** `{namespace}` → `:namespace` (express's form). */
export function expressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

function issues(where: InvalidParam['in'], error: z.ZodError): InvalidParam[] {
  return error.issues.map((i) => {
    if (i.code === 'unrecognized_keys') {
      return { in: where, name: i.keys.join(', '), reason: `unknown ${where} parameter` };
    }
    return { in: where, name: i.path.map(String).join('.') || '(body)', reason: i.message };
  });
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: InvalidParam['in']): T {
  if (!schema) return undefined as T;
  const result = schema.safeParse(value);
  if (!result.success) throw badRequest(issues(where, result.error));
  return result.data;
}

/** Writes `problem` unless the response has started already (a stream): then it is just ended. */
export function sendProblem(res: Response, problem: ApiProblem, instance?: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.status(problem.status).set(problem.headers).type(PROBLEM_CONTENT_TYPE);
  res.send(JSON.stringify(problem.document(instance)));
}

/** The ApiProblem for anything a handler threw; unexpected errors are logged (never their data). */
export function toProblem(err: unknown, logger: Logger, operationId: string): ApiProblem {
  if (err instanceof ApiProblem || (err as Error | undefined)?.name === 'ApiProblem')
    return err as ApiProblem;
  if (isUnavailable(err)) return storeUnavailable();
  if (isApiStatusError(err)) {
    if (err.code === 404) return new ApiProblem(404, 'not-found', `the Kubernetes API: ${err.message}`);
    if (err.code === 409) return new ApiProblem(409, 'conflict', `the Kubernetes API: ${err.message}`);
    if (err.code === 422)
      return badRequest([
        { in: 'body', name: '(body)', reason: `the Kubernetes API refused it: ${err.message}` },
      ]);
    if (err.code === 429 || err.code >= 500) {
      return new ApiProblem(
        503,
        'apiserver-unavailable',
        `the Kubernetes API: ${err.message}`,
        {},
        { 'Retry-After': '5' },
      );
    }
  }
  logger.error('status API request failed', { operationId, error: (err as Error)?.message });
  return new ApiProblem(500, 'internal', 'the request failed inside the controller; its log says why');
}

async function authorize(
  auth: ApiAuth,
  req: Request,
  route: Route,
  params: unknown,
  query: unknown,
): Promise<Caller> {
  const caller = await auth.authenticate(req.get('authorization'));
  const needed = route.access!({ params, query });
  const answers = await Promise.all(needed.map((a) => auth.allowed(caller, a)));
  const refused = needed.find((_, i) => !answers[i]);
  if (refused) {
    throw new ApiProblem(403, 'forbidden', `user "${caller.username}" cannot ${describeAccess(refused)}`, {
      denied: {
        verb: refused.verb,
        resource: `${refused.resource}.flexcore.io`,
        ...(refused.subresource && { subresource: refused.subresource }),
        ...(refused.namespace !== undefined && { namespace: refused.namespace }),
      },
    });
  }
  return caller;
}

function checkResponse(route: Route, status: number, body: unknown): void {
  const schema = route.responses[status]?.schema;
  if (!route.responses[status])
    throw new Error(`${route.operationId} answered ${status}, not in its contract`);
  if (!schema) return;
  const result = schema.safeParse(body);
  if (!result.success) {
    const i = result.error.issues[0];
    throw new Error(
      `${route.operationId} ${status} breaks its schema at ${i?.path.join('.')}: ${i?.message}`,
    );
  }
}

/** The raw parts of a request to one route, before validation. */
export interface RouteInput {
  readonly params: unknown;
  readonly query: unknown;
  readonly body: unknown;
}

/**
 * Validates `input` against the route, authorizes the caller of `req` and runs the handler.
 * `payload` set: the input came in an envelope (the seed API's commands and queries), so a bad
 * field is named `payload.<field>` in the body rather than as a path or query parameter.
 */
export async function invokeRoute(
  route: Route,
  input: RouteInput,
  req: Request,
  res: Response,
  o: RouterOptions,
  payload = false,
): Promise<Reply> {
  const at = (where: InvalidParam['in']): InvalidParam['in'] => (payload ? 'body' : where);
  const rename = (p: InvalidParam[]): InvalidParam[] =>
    payload ? p.map((x) => ({ ...x, name: `payload.${x.name}` })) : p;
  let params: unknown;
  let query: unknown;
  let body: unknown;
  try {
    params = parse(route.params, input.params, at('path'));
    query = parse(route.query, input.query ?? {}, at('query'));
    body = parse(route.body, input.body, 'body');
  } catch (err) {
    if (err instanceof ApiProblem && err.extra.invalidParams)
      throw badRequest(rename(err.extra.invalidParams));
    throw err;
  }
  const caller = route.access
    ? await authorize(o.auth, req, route, params, query)
    : { username: 'system:anonymous', groups: [], extra: {} };
  const recheck = async (): Promise<boolean> => {
    if (!route.access) return true;
    try {
      await authorize(o.auth, req, route, params, query);
      return true;
    } catch (err) {
      if (err instanceof ApiProblem && (err.status === 401 || err.status === 403)) return false;
      throw err;
    }
  };
  return route.handle({ params, query, body, caller, recheck, req, res });
}

function handler(route: Route, o: RouterOptions) {
  const contentType = (status: number): string => route.responses[status]?.contentType ?? 'application/json';
  return async (req: Request, res: Response): Promise<void> => {
    const started = process.hrtime.bigint();
    try {
      // A POST without a body means "all defaults" ({}); one with a body must be JSON.
      const hasBody =
        req.get('transfer-encoding') !== undefined || Number(req.get('content-length') ?? 0) > 0;
      if (route.body && hasBody && !req.is('application/json')) {
        throw new ApiProblem(415, 'unsupported-media-type', 'the request body must be application/json');
      }
      const reply = await invokeRoute(
        route,
        { params: req.params, query: req.query ?? {}, body: hasBody ? req.body : {} },
        req,
        res,
        o,
      );
      if (reply === 'streamed') return;
      const status = reply.status ?? 200;
      const text =
        'json' in reply ? JSON.stringify(reply.json) : 'rawJson' in reply ? reply.rawJson : reply.text;
      if (o.validateResponses && !('text' in reply)) checkResponse(route, status, JSON.parse(text));
      res
        .status(status)
        .set(reply.headers ?? {})
        .type(contentType(status))
        .send(text);
    } catch (err) {
      sendProblem(res, toProblem(err, o.logger, route.operationId), req.originalUrl);
    } finally {
      o.onResponse?.(route.operationId, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };
}

/**
 * An express router serving `routes`: bodies are JSON, at most `bodyLimitBytes`; a path that
 * exists with another method answers 405 with Allow; anything else under the mount point 404.
 */
export function apiRouter(routes: readonly Route[], o: RouterOptions): express.Router {
  const router = express.Router({ strict: false });
  router.use(express.json({ limit: o.bodyLimitBytes ?? 64 * 1024, type: 'application/json' }));
  const methodsByPath = new Map<string, string[]>();
  for (const r of routes) {
    const path = expressPath(r.path);
    router[r.method](path, handler(r, o));
    methodsByPath.set(path, [...(methodsByPath.get(path) ?? []), r.method.toUpperCase()]);
  }
  for (const [path, methods] of methodsByPath) {
    router.all(path, (req, res) => {
      const allow = methods.includes('GET') ? [...methods, 'HEAD'] : methods;
      sendProblem(
        res,
        new ApiProblem(
          405,
          'method-not-allowed',
          `${req.method} is not served here; use ${allow.join(', ')}`,
          {},
          {
            Allow: allow.join(', '),
          },
        ),
        req.originalUrl,
      );
    });
  }
  router.use((req, res) => {
    sendProblem(
      res,
      new ApiProblem(404, 'not-found', `no such endpoint: ${req.method} ${req.path}`),
      req.originalUrl,
    );
  });
  // Body parser failures (bad JSON, too large) arrive here.
  router.use(
    (
      err: { status?: number; type?: string; message?: string },
      req: Request,
      res: Response,
      _next: NextFunction,
    ) => {
      if (err.type === 'entity.too.large') {
        sendProblem(
          res,
          new ApiProblem(
            413,
            'body-too-large',
            `the request body is larger than ${o.bodyLimitBytes ?? 65536} bytes`,
          ),
          req.originalUrl,
        );
      } else if (err.type === 'entity.parse.failed') {
        sendProblem(
          res,
          badRequest([{ in: 'body', name: '(body)', reason: `not valid JSON: ${err.message ?? ''}` }]),
          req.originalUrl,
        );
      } else {
        sendProblem(res, toProblem(err, o.logger, 'body'), req.originalUrl);
      }
    },
  );
  return router;
}
