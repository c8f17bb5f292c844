/** `flexcore cancel RUN`: cancels a running run (409, "already finished", exits 1). */
import { CONNECTION_OPTIONS, outputFormat, OUTPUT_OPTION } from './args.js';
import { apiCommand, type CommandContext } from './command.js';
import { cancelRun, getRun, type CancelRequestedBody } from './endpoints.js';

const USAGE = `usage: flexcore cancel RUN [flags]

Cancels a running run: its Pods are stopped and it is recorded Cancelled (waits up to 5 s).
  -o json|table         output format (table)
`;

/** The phase after the cancel, for a person: Cancelled, or still stopping. */
export function cancelLine(body: CancelRequestedBody): string {
  if (body.phase === 'Running')
    return `run ${body.runId}: cancel requested; it is still stopping (Running)\n`;
  return `run ${body.runId}: ${body.phase}\n`;
}

async function run({ args, connection, client, out }: CommandContext): Promise<number> {
  const format = outputFormat(args.flags);
  const runId = args.positionals[0]!;
  // The cancel endpoint is per pipeline; the run id alone finds it.
  const detail = await getRun(client, connection.namespace, runId);
  const body = await cancelRun(client, detail.namespace, detail.pipeline, detail.runId);
  out(format === 'json' ? `${JSON.stringify(body, null, 2)}\n` : cancelLine(body));
  return 0;
}

export const runCancel = apiCommand({
  name: 'cancel',
  usage: USAGE,
  options: { ...CONNECTION_OPTIONS, ...OUTPUT_OPTION },
  positionals: ['RUN'],
  required: 1,
  check: (args) => {
    outputFormat(args.flags);
  },
  run,
});
