/** Typed errors of the local test harness; messages name what is missing and where to look. */

/** A program or setting the harness needs is not there (Go, openssl, redis-server, a free port). */
export class PrerequisiteError extends Error {
  override readonly name = 'PrerequisiteError';
}

/** A component was started but did not become ready; the message carries its log path. */
export class ComponentStartError extends Error {
  override readonly name = 'ComponentStartError';
  constructor(
    message: string,
    readonly logPath: string,
  ) {
    super(message);
  }
}
