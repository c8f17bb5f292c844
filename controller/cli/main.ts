/** `flexcore <command>`: the project's command line. Never prints a stack trace at a user. */
import { runController } from './controller.js';
import { runReplay } from './replay.js';
import { runValidate } from './validate.js';

const USAGE = `usage: flexcore <command> [arguments]

commands:
  controller            run the controller (see flexcore controller --help)
  validate [PATH ...]   check FlexPlugin and FlexPipeline manifests offline (files, directories, or - for stdin)
  replay [--swap]       rebuild the read models from the event log and compare them with the live ones
  help                  show this help
`;

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  controller: runController,
  validate: runValidate,
  replay: runReplay,
  help: () => {
    process.stdout.write(USAGE);
    return Promise.resolve(0);
  },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = name === undefined || name === '--help' || name === '-h' ? COMMANDS.help : COMMANDS[name];
  if (!command) {
    process.stderr.write(`flexcore: unknown command "${name}"\n${USAGE}`);
    return 2;
  }
  return command(rest);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`flexcore: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 70;
}
