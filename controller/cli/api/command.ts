/**
 * The shell every API command runs in: parse the arguments, answer --help, resolve the
 * connection, run, and turn known failures into one line on stderr and an exit code
 * (0 ok, 1 the API or the connection failed, 2 usage).
 */
import { homedir } from 'node:os';
import { ApiClient } from './api-client.js';
import { parseCommandArgs, stringFlag, type ArgsSpec, type ParsedArgs } from './args.js';
import { kubeCredentials, resolveConnection, type Connection } from './connection.js';
import { isCliError } from './errors.js';

export type Write = (text: string) => void;

export interface CommandContext {
  readonly args: ParsedArgs;
  readonly connection: Connection;
  readonly client: ApiClient;
  readonly out: Write;
  readonly err: Write;
}

export interface ApiCommandSpec extends ArgsSpec {
  readonly name: string;
  readonly usage: string;
  /** Checks the arguments before any connection is made: throw UsageError. */
  readonly check?: (args: ParsedArgs) => void;
  readonly run: (ctx: CommandContext) => Promise<number>;
}

/** Connection flags and environment, for every command's --help. */
export const CONNECTION_HELP = `Connection (flags win over the environment, then the current kubeconfig context):
  --server URL          FLEXCORE_API_URL: the controller's HTTP port, e.g. http://localhost:8080
  --token TOKEN         FLEXCORE_TOKEN: a Kubernetes bearer token (else the kubeconfig user's;
                        none at all for a controller run with --api-auth=none)
  -n, --namespace NS    the namespace (else the kubeconfig context's, else default)
`;

const write =
  (stream: NodeJS.WriteStream): Write =>
  (text) => {
    stream.write(text);
  };

/** A broken pipe (`flexcore watch | head`) ends the command quietly instead of with a stack trace. */
function quietOnBrokenPipe(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    process.stderr.write(`flexcore: cannot write the output: ${err.message}\n`);
    process.exit(1);
  });
}

/** The command as main.ts registers it: arguments in, exit code out. */
export function apiCommand(spec: ApiCommandSpec): (args: string[]) => Promise<number> {
  return async (argv) => {
    const out = write(process.stdout);
    const err = write(process.stderr);
    try {
      const args = parseCommandArgs(argv, spec);
      if (args.flags.help === true) {
        out(`${spec.usage}\n${CONNECTION_HELP}`);
        return 0;
      }
      spec.check?.(args);
      const connection = await resolveConnection(
        {
          server: stringFlag(args.flags, 'server'),
          token: stringFlag(args.flags, 'token'),
          namespace: stringFlag(args.flags, 'namespace'),
        },
        process.env,
        (wantToken) => kubeCredentials(process.env, homedir(), wantToken),
      );
      const client = new ApiClient({ server: connection.server, token: connection.token });
      quietOnBrokenPipe();
      return await spec.run({ args, connection, client, out, err });
    } catch (e) {
      if (!isCliError(e)) throw e;
      const hint = e.exitCode === 2 ? ` (see flexcore ${spec.name} --help)` : '';
      err(`flexcore ${spec.name}: ${e.message}${hint}\n`);
      return e.exitCode;
    }
  };
}
