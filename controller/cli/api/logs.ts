/**
 * `flexcore logs RUN [STEP]`: the stored log tails of a run — one step's attempt, or the last
 * attempt of every step under a header line each. Logs are stored when an attempt finishes.
 */
import { ApiClientError } from './api-client.js';
import { CONNECTION_OPTIONS, intFlag, stringFlag, type ParsedArgs } from './args.js';
import { apiCommand, type CommandContext } from './command.js';
import { attemptLog, getRun, type RunDetailBody } from './endpoints.js';
import { CliError, UsageError } from './errors.js';

const USAGE = `usage: flexcore logs RUN [STEP] [flags]

Prints the stored log of a run's steps (the last attempt of each), or of one step.
  --attempt N           that attempt of STEP (its last one)
  --container C         one container (a Singer step has tap and target); all of them when unset
`;

type Step = RunDetailBody['steps'][number];

/** The newest attempt that ran (attempt 0 stands for a skipped step); undefined when none did. */
export function lastAttempt(step: Step): number | undefined {
  const ran = step.attempts.map((a) => a.attempt).filter((n) => n >= 1);
  return ran.length === 0 ? undefined : Math.max(...ran);
}

export function stepHeader(step: string, attempt: number): string {
  return `==> step ${step}, attempt ${attempt} <==\n`;
}

const withNewline = (text: string): string => (text === '' || text.endsWith('\n') ? text : `${text}\n`);

function stepOf(run: RunDetailBody, name: string): Step {
  const step = run.steps.find((s) => s.name === name);
  if (!step) {
    const names = run.steps.map((s) => s.name).join(', ') || 'none yet';
    throw new CliError(`run ${run.runId} has no step "${name}" (its steps: ${names})`);
  }
  return step;
}

async function oneStep(ctx: CommandContext, run: RunDetailBody, name: string): Promise<number> {
  const step = stepOf(run, name);
  const attempt =
    stringFlag(ctx.args.flags, 'attempt') !== undefined
      ? intFlag(ctx.args.flags, 'attempt', 1, 100_000)
      : lastAttempt(step);
  if (attempt === undefined)
    throw new CliError(`step ${name} of run ${run.runId} has not run (${step.phase})`);
  ctx.out(
    withNewline(await attemptLog(ctx.client, run, name, attempt, stringFlag(ctx.args.flags, 'container'))),
  );
  return 0;
}

/** Every step's last attempt; a step without a stored log is a note on stderr, not a failure. */
async function everyStep(ctx: CommandContext, run: RunDetailBody): Promise<number> {
  const container = stringFlag(ctx.args.flags, 'container');
  for (const step of run.steps) {
    const attempt = lastAttempt(step);
    if (attempt === undefined) {
      ctx.err(`step ${step.name}: no attempt (${step.phase})\n`);
      continue;
    }
    let text: string;
    try {
      text = await attemptLog(ctx.client, run, step.name, attempt, container);
    } catch (e) {
      if (!(e instanceof ApiClientError) || e.status !== 404) throw e;
      ctx.err(`step ${step.name}: ${e.message}\n`);
      continue;
    }
    ctx.out(stepHeader(step.name, attempt) + withNewline(text));
  }
  return 0;
}

async function run(ctx: CommandContext): Promise<number> {
  const [runId, step] = ctx.args.positionals as [string, string | undefined];
  const detail = await getRun(ctx.client, ctx.connection.namespace, runId);
  return step === undefined ? everyStep(ctx, detail) : oneStep(ctx, detail, step);
}

function check(args: ParsedArgs): void {
  if (stringFlag(args.flags, 'attempt') === undefined) return;
  if (args.positionals[1] === undefined) throw new UsageError('--attempt needs a STEP');
  intFlag(args.flags, 'attempt', 1, 100_000);
}

export const runLogs = apiCommand({
  name: 'logs',
  usage: USAGE,
  options: { ...CONNECTION_OPTIONS, attempt: { type: 'string' }, container: { type: 'string' } },
  positionals: ['RUN', 'STEP'],
  required: 1,
  check,
  run,
});
