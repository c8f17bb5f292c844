/**
 * `flexcore watch [PIPELINE]`: the event feed live, one line per event (or its JSON with -o
 * json), resuming exactly where it was after a dropped connection, until Ctrl-C.
 */
import { FeedEvent } from '../../server/schemas.js';
import {
  booleanFlag,
  CONNECTION_OPTIONS,
  outputFormat,
  OUTPUT_OPTION,
  stringFlag,
  type ParsedArgs,
} from './args.js';
import { apiCommand, type CommandContext } from './command.js';
import { STREAM_PATH } from './endpoints.js';
import { UsageError } from './errors.js';
import type { SseMessage } from './sse.js';
import { followStream } from './stream-follower.js';
import type { Query } from './api-client.js';

const USAGE = `usage: flexcore watch [PIPELINE] [flags]

Prints the events of the namespace's pipelines (or of PIPELINE) as they happen, until Ctrl-C.
A dropped connection is resumed from the last event received: none is lost or repeated.
  --type T[,T]          only events of these types (RunStarted,RunFinished,StepAttemptFinished,...)
  -A, --all-namespaces  events of every namespace (needs list on flexpipelines cluster-wide)
  -o json|table         one JSON object per line, or one line per event for people (table)
`;

/** Data fields worth a column, in order, with their labels. */
const DETAILS: readonly (readonly [string, string])[] = [
  ['step', 'step'],
  ['attempt', 'attempt'],
  ['container', 'container'],
  ['trigger', 'trigger'],
  ['phase', 'phase'],
  ['exitCode', 'exit'],
  ['reason', 'reason'],
];

/** Widest event type name the engine writes (StepAttemptScheduled), for alignment. */
const TYPE_WIDTH = 20;

/** One line for a person: time, type, pipeline, run, then step/attempt/phase... when present. */
export function eventLine(e: FeedEvent, withNamespace: boolean): string {
  const time = e.recordedAt.replace(/\.\d+Z$/, 'Z');
  const pipeline =
    e.pipeline === undefined
      ? '-'
      : withNamespace && e.namespace
        ? `${e.namespace}/${e.pipeline}`
        : e.pipeline;
  const runId = typeof e.data.runId === 'string' ? e.data.runId : '-';
  const details = DETAILS.filter(([key]) => ['string', 'number'].includes(typeof e.data[key])).map(
    ([key, label]) => `${label}=${String(e.data[key] as string | number)}`,
  );
  return `${[time, e.type.padEnd(TYPE_WIDTH), pipeline, runId, ...details].join('  ')}\n`;
}

/** The stream query of the arguments; -A with a pipeline is a usage error. */
export function watchQuery(args: ParsedArgs, namespace: string): Query {
  const pipeline = args.positionals[0];
  const all = booleanFlag(args.flags, 'all-namespaces');
  if (all && pipeline !== undefined) {
    throw new UsageError('a pipeline lives in one namespace: give -n NAMESPACE with it, not -A');
  }
  return { namespace: all ? undefined : namespace, pipeline, type: stringFlag(args.flags, 'type') };
}

/** What to print for one message: its data as is (json), or a line for people. */
export function renderMessage(m: SseMessage, format: 'json' | 'table', withNamespace: boolean): string {
  if (format === 'json') return `${m.data}\n`;
  let parsed: ReturnType<typeof FeedEvent.safeParse>;
  try {
    parsed = FeedEvent.safeParse(JSON.parse(m.data));
  } catch {
    return `${m.event}  ${m.data}\n`;
  }
  return parsed.success ? eventLine(parsed.data, withNamespace) : `${m.event}  ${m.data}\n`;
}

/** What a watch follows, for its first line on stderr. */
function watchedWhat(q: Query): string {
  const where = q.namespace === undefined ? 'every namespace' : `namespace ${q.namespace}`;
  const what = q.pipeline === undefined ? where : `pipeline ${q.pipeline} in ${where}`;
  return q.type === undefined ? what : `${what}, ${String(q.type)} only`;
}

async function run({ args, connection, client, out, err }: CommandContext): Promise<number> {
  const format = outputFormat(args.flags);
  const query = watchQuery(args, connection.namespace);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let announced = false;
  const open = async (lastEventId: string, signal: AbortSignal): Promise<Response> => {
    const headers: Record<string, string> = lastEventId ? { 'Last-Event-ID': lastEventId } : {};
    const res = await client.stream(STREAM_PATH, query, headers, signal);
    if (!announced) err(`watching ${watchedWhat(query)} (Ctrl-C to stop)\n`);
    announced = true;
    return res;
  };
  try {
    await followStream({
      open,
      onMessage: (m) => out(renderMessage(m, format, query.namespace === undefined)),
      onReconnect: (why, delayMs) => err(`flexcore watch: ${why}; reconnecting in ${delayMs / 1000} s\n`),
      signal: stop.signal,
    });
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  return 0;
}

export const runWatch = apiCommand({
  name: 'watch',
  usage: USAGE,
  options: {
    ...CONNECTION_OPTIONS,
    ...OUTPUT_OPTION,
    type: { type: 'string' },
    'all-namespaces': { type: 'boolean', short: 'A' },
  },
  positionals: ['PIPELINE'],
  required: 0,
  check: (args) => {
    outputFormat(args.flags);
    watchQuery(args, 'default');
  },
  run,
});
