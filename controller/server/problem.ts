/**
 * Errors of the status API as RFC 9457 problem documents (`application/problem+json`). Route
 * handlers throw these; the router turns them, and store outages, into responses. `type` is a
 * stable URN per kind of problem, so clients can branch on it without parsing text.
 */

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** One bad request parameter: where it was, its name (a dotted path for body fields), and why. */
export interface InvalidParam {
  readonly in: 'path' | 'query' | 'header' | 'body';
  readonly name: string;
  readonly reason: string;
}

export interface ProblemDocument {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly instance?: string;
  readonly invalidParams?: InvalidParam[];
  /** 403: what the caller may not do, as `kubectl auth can-i` would ask it. */
  readonly denied?: { verb: string; resource: string; subresource?: string; namespace?: string };
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** A problem the API answers with. `headers` are sent too (WWW-Authenticate, Retry-After, Allow). */
export class ApiProblem extends Error {
  override name = 'ApiProblem';
  constructor(
    readonly status: number,
    readonly kind: string,
    readonly detail: string,
    readonly extra: Pick<ProblemDocument, 'invalidParams' | 'denied'> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }

  document(instance?: string): ProblemDocument {
    return {
      type: `urn:flexcore:problem:${this.kind}`,
      title: TITLES[this.status] ?? 'Error',
      status: this.status,
      detail: this.detail,
      ...(instance !== undefined && { instance }),
      ...this.extra,
    };
  }
}

export function badRequest(params: InvalidParam[]): ApiProblem {
  const detail = params.map((p) => `${p.in} parameter "${p.name}": ${p.reason}`).join('; ');
  return new ApiProblem(400, 'invalid-parameter', detail, { invalidParams: params });
}

export function notFound(detail: string): ApiProblem {
  return new ApiProblem(404, 'not-found', detail);
}

export function conflict(detail: string): ApiProblem {
  return new ApiProblem(409, 'conflict', detail);
}

export function unauthorized(detail: string): ApiProblem {
  return new ApiProblem(401, 'unauthorized', detail, {}, { 'WWW-Authenticate': 'Bearer realm="flexcore"' });
}

/** Seconds a client should wait before trying again while PostgreSQL is unreachable. */
export const STORE_RETRY_AFTER_SECONDS = 5;

export function storeUnavailable(): ApiProblem {
  return new ApiProblem(
    503,
    'store-unavailable',
    'the event store (PostgreSQL) cannot be reached; try again shortly',
    {},
    { 'Retry-After': String(STORE_RETRY_AFTER_SECONDS) },
  );
}
