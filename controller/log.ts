/**
 * Structured logging. Components take a `Logger` (a seam: tests pass `silentLogger` or a
 * recording one); `createLogger` gives the winston-backed one the controller uses, JSON lines
 * on stderr, or human-readable text with LOG_FORMAT=text.
 */
import winston from 'winston';

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. the controller or object key). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** error | warn | info | debug; LOG_LEVEL or info by default. */
  readonly level?: string;
  /** json (default) or text. */
  readonly format?: 'json' | 'text';
}

class WinstonLogger implements Logger {
  constructor(private readonly w: winston.Logger) {}
  // Checked first: winston builds and pipes a filtered line before dropping it (~5 µs a call).
  debug(message: string, fields?: LogFields): void {
    if (this.w.isLevelEnabled('debug')) this.w.debug(message, fields);
  }
  info(message: string, fields?: LogFields): void {
    if (this.w.isLevelEnabled('info')) this.w.info(message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    if (this.w.isLevelEnabled('warn')) this.w.warn(message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.w.error(message, fields);
  }
  child(fields: LogFields): Logger {
    return new WinstonLogger(this.w.child(fields));
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const text = (options.format ?? process.env.LOG_FORMAT) === 'text';
  const w = winston.createLogger({
    level: options.level ?? process.env.LOG_LEVEL ?? 'info',
    format: text
      ? winston.format.combine(winston.format.timestamp(), winston.format.simple())
      : winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
  return new WinstonLogger(w);
}

/** Drops everything; for tests and tools that must stay quiet. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
