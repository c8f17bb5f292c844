/** Errors the API commands report in one line (never a stack trace), each with its exit code. */

/** A failure to report as `flexcore <command>: <message>`, exiting with `exitCode`. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

/** The command line is wrong: say why, point at --help, exit 2. */
export class UsageError extends CliError {
  override name = 'UsageError';
  constructor(message: string) {
    super(message, 2);
  }
}

/** True for a CliError, also one from another copy of this module (checked by name too). */
export function isCliError(err: unknown): err is CliError {
  return (
    err instanceof CliError ||
    (err instanceof Error &&
      ['CliError', 'UsageError', 'ApiClientError', 'KubeconfigError'].includes(err.name))
  );
}
