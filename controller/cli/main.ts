/** `flexcore <command>`: the project's command line. Never prints a stack trace at a user. */
const USAGE = `usage: flexcore <command> [arguments]

commands:
  controller            run the controller (see flexcore controller --help)
  validate [PATH ...]   check FlexPlugin and FlexPipeline manifests offline (files, directories, or - for stdin)
  schemas DIR           write JSON Schemas of both kinds for kubeconform (DIR/flexcore.io/<kind>_<version>.json)
  replay [--swap]       rebuild the read models from the event log and compare them with the live ones
  help                  show this help

commands that talk to a controller's status API (--server or FLEXCORE_API_URL; see <command> --help):
  runs [PIPELINE]       list runs, newest first (-A every namespace, --phase, --limit, --all, -o json)
  logs RUN [STEP]       print the stored logs of a run's steps
  run PIPELINE          start a manual run (--full-refresh STEP,...)
  cancel RUN            cancel a running run
  state get|set|clear PIPELINE [STEP] [FILE]
                        read, set or clear the Singer state a tap step starts from
  watch [PIPELINE]      print events as they happen, until Ctrl-C (--type, -o json)
`;

type Command = (args: string[]) => Promise<number>;

/** Each command's module loads only when it runs: `flexcore logs` need not load the controller. */
const COMMANDS: Record<string, Command> = {
  controller: async (a) => (await import('./controller.js')).runController(a),
  validate: async (a) => (await import('./validate.js')).runValidate(a),
  schemas: async (a) => (await import('./schemas.js')).runSchemas(a),
  replay: async (a) => (await import('./replay.js')).runReplay(a),
  runs: async (a) => (await import('./api/runs.js')).runRuns(a),
  logs: async (a) => (await import('./api/logs.js')).runLogs(a),
  run: async (a) => (await import('./api/run.js')).runRun(a),
  cancel: async (a) => (await import('./api/cancel.js')).runCancel(a),
  watch: async (a) => (await import('./api/watch.js')).runWatch(a),
  state: async (a) => (await import('./api/state.js')).runState(a),
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
