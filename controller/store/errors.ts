/**
 * Typed errors of the event store. Callers check them by class or by `name` (errors that
 * cross module copies keep their name). Retry policy: WrongExpectedVersion → re-read and
 * decide again; StaleFencingToken → stop writing (leadership is lost); StoreUnavailable →
 * wait (`EventStore.waitUntilAvailable`) and retry; the rest are bugs.
 */

export class StoreError extends Error {
  override name = 'StoreError';
}

/** The stream is not at the version the caller expected: someone else appended first. */
export class WrongExpectedVersionError extends StoreError {
  override name = 'WrongExpectedVersionError';
  constructor(
    readonly stream: string,
    readonly expected: string,
    readonly actual: number,
  ) {
    super(`stream ${stream} is at version ${actual}, expected ${expected}`);
  }
}

/** The writer's fencing token is older than the newest the database has seen: a deposed leader. */
export class StaleFencingTokenError extends StoreError {
  override name = 'StaleFencingTokenError';
  constructor(
    readonly fence: string,
    readonly token: number,
    readonly newest: number,
  ) {
    super(`stale fencing token ${token} for fence ${fence}: newest is ${newest}`);
  }
}

/** Some, but not all, event ids of a batch are already recorded: the caller mixed old and new events. */
export class DuplicateBatchError extends StoreError {
  override name = 'DuplicateBatchError';
}

/** PostgreSQL cannot be reached (down, restarting, network). Transient: wait and retry. */
export class StoreUnavailableError extends StoreError {
  override name = 'StoreUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(`event store unavailable: ${message}`, options);
  }
}

/** A migration file changed after it was applied, or a migration failed. */
export class MigrationError extends StoreError {
  override name = 'MigrationError';
}

/** Store configuration that cannot work (bad pool size, unreadable CA file, ...). */
export class StoreConfigError extends StoreError {
  override name = 'StoreConfigError';
}

/** True for errors that mean "PostgreSQL is unreachable right now". */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof StoreUnavailableError || (err as Error | undefined)?.name === 'StoreUnavailableError') {
    return true;
  }
  const e = err as { code?: string; message?: string } | undefined;
  const code = e?.code ?? '';
  if (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN'].includes(
      code,
    )
  ) {
    return true;
  }
  // 08xxx connection exceptions; 57P01-57P03 shutdown / cannot connect now; 53300 too many connections.
  // 25P03: the server ended a session left idle in a transaction (a frozen process) — gone too.
  if (/^08/.test(code) || ['25P03', '57P01', '57P02', '57P03', '53300'].includes(code)) return true;
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(
    e?.message ?? '',
  );
}

/** Wraps connection-level failures in StoreUnavailableError; returns anything else unchanged. */
export function classify(err: unknown): unknown {
  if (err instanceof StoreError) return err;
  if (isUnavailable(err)) return new StoreUnavailableError((err as Error).message, { cause: err });
  return err;
}
