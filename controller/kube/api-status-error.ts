/**
 * An error the apiserver reported with a Status object (an HTTP error response, or a watch
 * ERROR event), with its code and reason kept so callers decide on them, not on message text.
 */

/** A failed API request or watch, with the Status code (e.g. 410) and reason (e.g. Expired). */
export class ApiStatusError extends Error {
  override readonly name = 'ApiStatusError';

  constructor(
    readonly code: number,
    readonly reason: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** Builds the error from a Status object; `fallbackCode` (the HTTP status) when it has none. */
export function apiStatusError(status: unknown, fallbackCode: number): ApiStatusError {
  const s = (typeof status === 'object' && status !== null ? status : {}) as {
    code?: unknown;
    reason?: unknown;
    message?: unknown;
  };
  const code = typeof s.code === 'number' ? s.code : fallbackCode;
  const reason = typeof s.reason === 'string' ? s.reason : undefined;
  const message = typeof s.message === 'string' ? s.message : `request failed with status ${code}`;
  return new ApiStatusError(code, reason, message);
}

/** Checked by name as well as by class, so a copy of this module loaded twice still matches. */
export function isApiStatusError(err: unknown): err is ApiStatusError {
  return (
    err instanceof ApiStatusError ||
    (err instanceof Error &&
      err.name === 'ApiStatusError' &&
      typeof (err as { code?: unknown }).code === 'number')
  );
}

/**
 * True for 410: the resourceVersion asked for is no longer in the apiserver's history (reason
 * Gone or Expired), so only a fresh list can continue.
 */
export function isGone(err: unknown): boolean {
  return isApiStatusError(err) && err.code === 410;
}

/** 404: the object is not there (a delete of something already gone counts as done). */
export function isNotFound(err: unknown): boolean {
  return isApiStatusError(err) && err.code === 404;
}

/** 409 AlreadyExists: a create of a deterministic name that is already there counts as done. */
export function isAlreadyExists(err: unknown): boolean {
  return isApiStatusError(err) && err.code === 409 && err.reason === 'AlreadyExists';
}
