/**
 * `flexcore state get|set|clear PIPELINE [STEP]`: the Singer state a pipeline's tap steps start
 * from. `get` with a step prints that state as JSON, ready to edit and `set` again.
 */
import { readFile } from 'node:fs/promises';
import { CONNECTION_OPTIONS, outputFormat, OUTPUT_OPTION, type ParsedArgs } from './args.js';
import { apiCommand, type CommandContext } from './command.js';
import { changeSingerState, singerStates, type SingerStateEntryBody } from './endpoints.js';
import { CliError, UsageError } from './errors.js';
import { formatTable } from './table.js';

const USAGE = `usage: flexcore state get PIPELINE [STEP] [flags]
       flexcore state set PIPELINE STEP FILE [flags]
       flexcore state clear PIPELINE STEP [flags]

The Singer state (bookmarks) a pipeline's tap steps start from on their next run.
  get     without STEP: a line per Singer step; with STEP: the state its next run starts from, as JSON
  set     stores the JSON object in FILE (- for standard input) as the step's state
  clear   drops the step's state: the next run starts from nothing, as its first did
Each set and clear is recorded as an event with who asked; both are refused while a run that
uses the state is active.
  -o json|table         output format (table)
`;

const ACTIONS = ['get', 'set', 'clear'] as const;
type Action = (typeof ACTIONS)[number];

function actionOf(args: ParsedArgs): Action {
  const [action, , step, file] = args.positionals;
  if (!ACTIONS.includes(action as Action)) {
    throw new UsageError(`the first argument must be get, set or clear, got "${action}"`);
  }
  if (action !== 'get' && step === undefined) throw new UsageError(`state ${action} needs PIPELINE and STEP`);
  if (action === 'set' && file === undefined)
    throw new UsageError('state set needs a FILE (- for standard input)');
  if (action !== 'set' && file !== undefined) throw new UsageError(`unexpected argument "${file}"`);
  return action as Action;
}

/** The state the entry's next run starts from; undefined when it starts from nothing. */
export function nextState(e: SingerStateEntryBody): Record<string, unknown> | undefined {
  if (e.resumeFrom === 'partialState') return e.partialState;
  if (e.resumeFrom === 'state') return e.state;
  return undefined;
}

/** Where the stored state came from, for a person: a run, a partial run, or who set it. */
export function stateSource(e: SingerStateEntryBody): string {
  if (e.resumeFrom === 'partialState') return `partial, run ${e.partialRunId ?? '?'} (failed)`;
  if (e.resumeFrom !== 'state') return '-';
  if (e.changedBy !== undefined) return `set by ${e.changedBy || 'anonymous'}`;
  return `run ${e.stateRunId ?? '?'}`;
}

export function stateTable(items: readonly SingerStateEntryBody[]): string {
  return formatTable(
    ['STEP', 'STATE ID', 'NEXT RUN STARTS FROM', 'SINCE'],
    items.map((e) => [
      e.step,
      e.stateId,
      stateSource(e),
      (e.resumeFrom === 'partialState' ? e.partialAt : e.stateAt) ?? '-',
    ]),
  );
}

/** A Singer state from a file's text: a JSON object, or a CliError saying what it is instead. */
export function parseStateFile(text: string, file: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CliError(`${file}: not JSON (${(err as Error).message})`, 2);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError(`${file}: a Singer state is a JSON object, e.g. {"bookmarks": {...}}`, 2);
  }
  return value as Record<string, unknown>;
}

async function readStateFile(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`, 2);
  }
  return parseStateFile(text, file === '-' ? 'standard input' : file);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function run({ args, connection, client, out }: CommandContext): Promise<number> {
  const format = outputFormat(args.flags);
  const action = actionOf(args);
  const [, pipeline, step, file] = args.positionals as [
    string,
    string,
    string | undefined,
    string | undefined,
  ];
  const json = (v: unknown): void => out(`${JSON.stringify(v, null, 2)}\n`);
  if (action === 'get') {
    const { items } = await singerStates(client, connection.namespace, pipeline);
    if (step === undefined) {
      if (format === 'json') json({ items });
      else out(items.length > 0 ? stateTable(items) : `FlexPipeline ${pipeline} has no Singer steps\n`);
      return 0;
    }
    const entry = items.find((e) => e.step === step);
    if (!entry) {
      const names = items.map((e) => e.step).join(', ') || 'none';
      throw new CliError(`FlexPipeline ${pipeline} has no Singer step "${step}" (Singer steps: ${names})`);
    }
    json(format === 'json' ? entry : (nextState(entry) ?? {}));
    return 0;
  }
  const state = action === 'set' ? await readStateFile(file!) : undefined;
  const changed = await changeSingerState(client, connection.namespace, pipeline, step!, state);
  if (format === 'json') json(changed);
  else
    out(
      action === 'set'
        ? `state ${changed.stateId} set; the next run of ${pipeline}/${step} starts from it\n`
        : `state ${changed.stateId} cleared; the next run of ${pipeline}/${step} starts from nothing\n`,
    );
  return 0;
}

export const runState = apiCommand({
  name: 'state',
  usage: USAGE,
  options: { ...CONNECTION_OPTIONS, ...OUTPUT_OPTION },
  positionals: ['ACTION', 'PIPELINE', 'STEP', 'FILE'],
  required: 2,
  check: (args) => {
    outputFormat(args.flags);
    actionOf(args);
  },
  run,
});
