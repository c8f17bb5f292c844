/** `flexcore run PIPELINE`: starts a manual run (the API annotates the pipeline; the controller starts it). */
import { CONNECTION_OPTIONS, listFlag, outputFormat, OUTPUT_OPTION } from './args.js';
import { apiCommand, type CommandContext } from './command.js';
import { requestRun, type RunRequestedBody } from './endpoints.js';

const USAGE = `usage: flexcore run PIPELINE [flags]

Starts a manual run of PIPELINE and prints its id (waits up to 5 s for the controller).
  --full-refresh S[,S]  steps of this run that ignore their stored Singer state (* for every step)
  -o json|table         output format (table)
`;

/** What `run` tells a person: the run id (201), or that the request waits for the controller (202). */
export function runRequestedLine(status: number, body: RunRequestedBody): string {
  if (status === 201 && body.runId !== undefined) return `run ${body.runId} started\n`;
  return `run requested (${body.request}); the controller has not started it yet\n`;
}

async function run({ args, connection, client, out }: CommandContext): Promise<number> {
  const format = outputFormat(args.flags);
  const reply = await requestRun(
    client,
    connection.namespace,
    args.positionals[0]!,
    listFlag(args.flags, 'full-refresh'),
  );
  out(
    format === 'json'
      ? `${JSON.stringify(reply.body, null, 2)}\n`
      : runRequestedLine(reply.status, reply.body),
  );
  return 0;
}

export const runRun = apiCommand({
  name: 'run',
  usage: USAGE,
  options: { ...CONNECTION_OPTIONS, ...OUTPUT_OPTION, 'full-refresh': { type: 'string', multiple: true } },
  positionals: ['PIPELINE'],
  required: 1,
  check: (args) => {
    outputFormat(args.flags);
    listFlag(args.flags, 'full-refresh');
  },
  run,
});
