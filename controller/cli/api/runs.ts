/** `flexcore runs [PIPELINE]`: the run history, newest first, as a table or JSON. */
import {
  booleanFlag,
  CONNECTION_OPTIONS,
  intFlag,
  outputFormat,
  OUTPUT_OPTION,
  stringFlag,
  type ParsedArgs,
} from './args.js';
import { apiCommand, type CommandContext } from './command.js';
import { listRuns, type RunItem, type RunListRequest } from './endpoints.js';
import { UsageError } from './errors.js';
import { formatTable, humanDuration, secondsSince } from './table.js';

const USAGE = `usage: flexcore runs [PIPELINE] [flags]

Lists runs newest first: of one pipeline, of the namespace, or of every namespace (-A).
  --phase P[,P]         only runs in these phases: Running, Succeeded, Failed, Cancelled
  --limit N             how many (20); with --all, the page size
  --all                 every run, page after page
  -A, --all-namespaces  runs of every namespace (needs list on flexpipelines cluster-wide)
  -o json|table         output format (table)
`;

const DEFAULT_LIMIT = 20;
/** Page size for --all without --limit: few requests, bounded answers. */
const ALL_PAGE_SIZE = 500;

/** Table rows for `runs`: kubectl-style ages and durations relative to `now`. */
export function runRows(
  runs: readonly RunItem[],
  now: Date,
  allNamespaces: boolean,
): { headers: string[]; rows: string[][] } {
  const headers = ['RUN', 'PIPELINE', 'TRIGGER', 'PHASE', 'STARTED', 'DURATION'];
  const rows = runs.map((r) => {
    const seconds = r.durationSeconds ?? secondsSince(r.startedAt, now);
    const row = [
      r.runId,
      r.pipeline,
      r.trigger,
      r.phase,
      `${humanDuration(secondsSince(r.startedAt, now))} ago`,
      humanDuration(seconds),
    ];
    return allNamespaces ? [r.namespace, ...row] : row;
  });
  return { headers: allNamespaces ? ['NAMESPACE', ...headers] : headers, rows };
}

/** The list request of the arguments; -A with a pipeline is a usage error (a pipeline has one namespace). */
export function runsRequest(args: ParsedArgs, namespace: string): RunListRequest {
  const pipeline = args.positionals[0];
  const all = booleanFlag(args.flags, 'all-namespaces');
  if (all && pipeline !== undefined) {
    throw new UsageError('a pipeline lives in one namespace: give -n NAMESPACE with it, not -A');
  }
  const pageSize = booleanFlag(args.flags, 'all') ? ALL_PAGE_SIZE : DEFAULT_LIMIT;
  return {
    ...(!all && { namespace }),
    ...(pipeline !== undefined && { pipeline }),
    phase: stringFlag(args.flags, 'phase'),
    limit: intFlag(args.flags, 'limit', pageSize, 500),
  };
}

async function run({ args, connection, client, out, err }: CommandContext): Promise<number> {
  const format = outputFormat(args.flags);
  const request = runsRequest(args, connection.namespace);
  const followPages = booleanFlag(args.flags, 'all');
  const items: RunItem[] = [];
  let next: string | undefined;
  do {
    const page = await listRuns(client, { ...request, pageToken: next });
    items.push(...page.items);
    next = page.nextPageToken;
  } while (followPages && next !== undefined);

  if (format === 'json') {
    out(`${JSON.stringify({ items, ...(next !== undefined && { nextPageToken: next }) }, null, 2)}\n`);
    return 0;
  }
  if (items.length === 0) {
    err(
      request.namespace === undefined
        ? 'No runs found.\n'
        : `No runs found in namespace ${request.namespace}.\n`,
    );
    return 0;
  }
  const { headers, rows } = runRows(items, new Date(), request.namespace === undefined);
  out(formatTable(headers, rows));
  if (next !== undefined) err(`(more runs: raise --limit, or give --all)\n`);
  return 0;
}

export const runRuns = apiCommand({
  name: 'runs',
  usage: USAGE,
  options: {
    ...CONNECTION_OPTIONS,
    ...OUTPUT_OPTION,
    phase: { type: 'string' },
    limit: { type: 'string' },
    all: { type: 'boolean' },
    'all-namespaces': { type: 'boolean', short: 'A' },
  },
  positionals: ['PIPELINE'],
  required: 0,
  check: (args) => {
    outputFormat(args.flags);
    runsRequest(args, 'default');
  },
  run,
});
