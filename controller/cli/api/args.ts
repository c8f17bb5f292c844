/**
 * Argument parsing for the API commands: node's parseArgs with the connection flags every
 * command shares, and a UsageError (exit 2) in place of its exceptions.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
}

/** Flags every API command takes. */
export const CONNECTION_OPTIONS = {
  server: { type: 'string' },
  token: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Record<string, OptionSpec>;

/** `-o json|table`, for the commands that print data. */
export const OUTPUT_OPTION = { output: { type: 'string', short: 'o' } } as const satisfies Record<
  string,
  OptionSpec
>;

export type FlagValue = string | boolean | string[] | undefined;

export interface ParsedArgs {
  readonly flags: Readonly<Record<string, FlagValue>>;
  readonly positionals: readonly string[];
}

export interface ArgsSpec {
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Names of the positional arguments, for messages; `required` of them must be given. */
  readonly positionals: readonly string[];
  readonly required: number;
}

/** Parses `args` by `spec`; unknown flags, missing values and extra arguments are UsageErrors. */
export function parseCommandArgs(args: readonly string[], spec: ArgsSpec): ParsedArgs {
  let parsed: { values: Record<string, FlagValue>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...args],
      options: { ...spec.options },
      allowPositionals: true,
      strict: true,
    }) as typeof parsed;
  } catch (err) {
    // parseArgs explains at length how to pass '-x' as a positional; its first sentence is enough.
    const message = (err as Error).message.split('. ')[0]!;
    throw new UsageError(message.charAt(0).toLowerCase() + message.slice(1));
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { flags: values, positionals };
  if (positionals.length < spec.required) {
    throw new UsageError(
      `missing ${spec.positionals.slice(positionals.length, spec.required).join(' and ')}`,
    );
  }
  if (positionals.length > spec.positionals.length) {
    throw new UsageError(`unexpected argument "${positionals[spec.positionals.length]}"`);
  }
  return { flags: { ...values }, positionals };
}

/** A string flag's value, or undefined; '' counts as given (and is usually refused by its reader). */
export function stringFlag(flags: ParsedArgs['flags'], name: string): string | undefined {
  const v = flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function booleanFlag(flags: ParsedArgs['flags'], name: string): boolean {
  return flags[name] === true;
}

/** Every value of a repeatable flag, comma lists split: `--x a,b --x c` → [a, b, c]. */
export function listFlag(flags: ParsedArgs['flags'], name: string): string[] | undefined {
  const v = flags[name];
  if (v === undefined || typeof v === 'boolean') return undefined;
  const all = (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(',')).map((s) => s.trim());
  if (all.some((s) => s === '')) throw new UsageError(`--${name} needs names, comma-separated`);
  return all;
}

/** A positive integer flag, within `max`; `fallback` when not given. */
export function intFlag(flags: ParsedArgs['flags'], name: string, fallback: number, max: number): number {
  const raw = stringFlag(flags, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > max) {
    throw new UsageError(`--${name} must be a whole number from 1 to ${max}, got "${raw}"`);
  }
  return n;
}

export type OutputFormat = 'table' | 'json';

export function outputFormat(flags: ParsedArgs['flags']): OutputFormat {
  const raw = stringFlag(flags, 'output') ?? 'table';
  if (raw !== 'table' && raw !== 'json') throw new UsageError(`-o must be json or table, got "${raw}"`);
  return raw;
}
