/**
 * One route of the status API, declared once: path, zod schemas of its parameters, body and
 * responses, the Kubernetes permissions it needs, and its handler. The router (router.ts)
 * validates and authorizes from the declaration, and the OpenAPI document (openapi.ts) is
 * generated from the same object, so the contract and the code cannot drift apart.
 */
import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { Access, Caller } from './auth/access.js';

export type Method = 'get' | 'post' | 'put' | 'delete';

export interface ResponseSpec {
  readonly description: string;
  /** Body schema; omitted for an empty body. */
  readonly schema?: z.ZodType;
  /** `application/json` unless set (text/plain for logs, text/event-stream for the stream). */
  readonly contentType?: string;
}

export interface HandlerInput<P, Q, B> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  readonly caller: Caller;
  /** Authenticates and authorizes the request again (a long stream asks now and then): false once refused. */
  readonly recheck: () => Promise<boolean>;
  readonly req: Request;
  readonly res: Response;
}

/** What a handler answers: JSON (or text) with a status, or `streamed` when it wrote the response itself. */
export type Reply =
  | { readonly status?: number; readonly json: unknown; readonly headers?: Record<string, string> }
  | { readonly status?: number; readonly text: string; readonly headers?: Record<string, string> }
  /** JSON already serialized (the feed copies event data through as text). */
  | { readonly status?: number; readonly rawJson: string; readonly headers?: Record<string, string> }
  | 'streamed';

export interface Route<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> {
  readonly method: Method;
  /** OpenAPI form, relative to the mount point: `/namespaces/{namespace}/pipelines`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  readonly responses: Readonly<Record<number, ResponseSpec>>;
  /** The permissions a request needs (all of them); unset: a public route (no token needed). */
  readonly access?: (input: { params: z.output<P>; query: z.output<Q> }) => Access[];
  readonly handle: (input: HandlerInput<z.output<P>, z.output<Q>, z.output<B>>) => Promise<Reply>;
}

/** Keeps the schema types of one route together (inference helper, no runtime effect). */
export function route<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(
  r: Route<P, Q, B>,
): Route {
  return r;
}
