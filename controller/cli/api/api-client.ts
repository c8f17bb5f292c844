/**
 * A small fetch-based client of the status API. Every failure becomes an ApiClientError whose
 * message is what the user should read: the problem document's detail, or what went wrong on
 * the way (unreachable server, something else answering at that URL).
 */
import type { z } from 'zod';
import { Problem } from '../../server/schemas.js';
import { CliError } from './errors.js';

export type ProblemDocument = z.infer<typeof Problem>;

/** The API refused or failed a request, or could not be reached (`status` undefined). */
export class ApiClientError extends CliError {
  override name = 'ApiClientError';
  constructor(
    message: string,
    readonly status?: number,
    readonly problem?: ProblemDocument,
  ) {
    super(message, 1);
  }
}

export type Query = Readonly<Record<string, string | number | undefined>>;

const API_PREFIX = '/api/v1';
/** A command's answer comes within 5 s; anything much slower is a hung connection. */
const REQUEST_TIMEOUT_MS = 30_000;

/** The URL of API path `path` (starting with '/') on `server`, which may already end in /api/v1. */
export function apiUrl(server: string, path: string, query: Query = {}): string {
  const base = server.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return `${base}${API_PREFIX}${path}${qs ? `?${qs}` : ''}`;
}

/** `/namespaces/a/pipelines/b`: path segments, each URI-encoded. */
export function pathOf(...segments: string[]): string {
  return segments.map((s) => `/${encodeURIComponent(s)}`).join('');
}

/** The user-facing message of a problem document (401 without a token says how to give one). */
export function problemMessage(p: ProblemDocument, hadToken: boolean): string {
  if (p.status === 401 && !hadToken) {
    return `${p.detail} (give --token or FLEXCORE_TOKEN, or use a kubeconfig user with a bearer token)`;
  }
  return p.detail;
}

function networkMessage(server: string, err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return `no answer from ${server} within ${REQUEST_TIMEOUT_MS / 1000} s`;
  const why = e.cause?.code ?? e.cause?.message ?? e.message;
  return `cannot reach ${server}: ${why}`;
}

export interface ApiClientOptions {
  readonly server: string;
  readonly token?: string;
  /** Injected in tests. */
  readonly fetch?: typeof fetch;
}

export interface JsonReply<T> {
  readonly status: number;
  readonly body: T;
}

export class ApiClient {
  private readonly fetch: typeof fetch;

  constructor(private readonly o: ApiClientOptions) {
    this.fetch = o.fetch ?? globalThis.fetch;
  }

  /** GET a JSON body, checked against `schema`. */
  async get<S extends z.ZodType>(schema: S, path: string, query?: Query): Promise<z.output<S>> {
    return (await this.json(schema, 'GET', path, { query })).body;
  }

  /** A JSON request; `body` (when given) is sent as JSON. */
  async json<S extends z.ZodType>(
    schema: S,
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    init: { query?: Query; body?: unknown } = {},
  ): Promise<JsonReply<z.output<S>>> {
    const res = await this.send(method, apiUrl(this.o.server, path, init.query), {
      ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
      headers: {
        Accept: 'application/json',
        ...(init.body !== undefined && { 'Content-Type': 'application/json' }),
      },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const parsed = schema.safeParse(await this.readJson(res));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ApiClientError(
        `unexpected answer from ${this.o.server}: ${issue?.path.join('.') || 'body'}: ${issue?.message}`,
        res.status,
      );
    }
    return { status: res.status, body: parsed.data };
  }

  /** GET a text body (a log). */
  async text(path: string, query?: Query): Promise<string> {
    const res = await this.send('GET', apiUrl(this.o.server, path, query), {
      headers: { Accept: 'text/plain' },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    return res.text();
  }

  /** Opens a server-sent-events stream; the caller reads `body` until it ends or `signal` aborts. */
  async stream(
    path: string,
    query: Query,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<Response> {
    return this.send('GET', apiUrl(this.o.server, path, query), {
      headers: { Accept: 'text/event-stream', ...headers },
      signal,
    });
  }

  /** Sends the request; a non-2xx answer or a network failure throws ApiClientError. */
  private async send(
    method: string,
    url: string,
    init: { body?: string; headers: Record<string, string>; signal: AbortSignal },
  ): Promise<Response> {
    let res: Response;
    try {
      res = await this.fetch(url, {
        method,
        ...init,
        headers: { ...init.headers, ...(this.o.token && { Authorization: `Bearer ${this.o.token}` }) },
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err; // the caller stopped it (watch: Ctrl-C)
      throw new ApiClientError(networkMessage(this.o.server, err));
    }
    if (res.ok) return res;
    throw await this.errorOf(res, url);
  }

  private async errorOf(res: Response, url: string): Promise<ApiClientError> {
    const text = await res.text().catch(() => '');
    if (/^application\/problem\+json/.test(res.headers.get('content-type') ?? '')) {
      const problem = Problem.safeParse(safeJson(text));
      if (problem.success) {
        return new ApiClientError(
          problemMessage(problem.data, this.o.token !== undefined),
          res.status,
          problem.data,
        );
      }
    }
    // Not the status API answering: a proxy, or --server pointing elsewhere.
    return new ApiClientError(
      `HTTP ${res.status} ${res.statusText} from ${url} (is --server the controller's HTTP port?)`,
      res.status,
    );
  }

  private async readJson(res: Response): Promise<unknown> {
    const text = await res.text();
    const value = safeJson(text);
    if (value === undefined) {
      throw new ApiClientError(`unexpected answer from ${this.o.server}: not JSON`, res.status);
    }
    return value;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
