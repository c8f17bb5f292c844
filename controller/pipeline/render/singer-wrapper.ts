/**
 * The `sh -c` wrappers that join a Singer tap and target through a FIFO in a shared emptyDir
 * (see docs/singer.md). The scripts are constants: the plugin's command and arguments reach
 * them as positional parameters ("$@"), never as script text, so config and args cannot
 * inject shell code.
 */
import type { FlexPlugin } from '../../../api/v1alpha1/index.js';
import { effectiveProtocol } from '../../../api/v1alpha1/index.js';
import type { AttemptInput } from './attempt-input.js';
import type { ConfigProblem } from './config-problem.js';

/** The environment variable that gives both wrappers the FIFO path. */
export const PIPE_ENV = 'FLEXCORE_PIPE';

/** Exit code of a wrapper that could not set up the FIFO (the plugin never started). */
export const WRAPPER_FAILED_EXIT_CODE = 125;

// Both sides try mkfifo, so neither waits for the other to create it; the loser finds a FIFO
// there. Mode 666: tap and target may run as different users. `exec` makes the plugin PID 1
// with the FIFO as stdout (tap) or stdin (target): its exit code is the container's, and when
// the tap exits the last write end closes, so the target reads EOF. Opening blocks until the
// other side opens too.
const FIFO_SETUP = `fifo="$${PIPE_ENV}"
if ! mkfifo -m 666 "$fifo" 2>/dev/null && ! [ -p "$fifo" ]; then
  echo "flexcore: cannot create the FIFO $fifo" >&2
  exit ${WRAPPER_FAILED_EXIT_CODE}
fi
`;

/** The tap's wrapper: runs "$@" with standard output into the FIFO. */
export const TAP_WRAPPER = `${FIFO_SETUP}exec "$@" >"$fifo"\n`;

/** The target's wrapper: runs "$@" with standard input from the FIFO. */
export const TARGET_WRAPPER = `${FIFO_SETUP}exec "$@" <"$fifo"\n`;

/** The container command that runs `argv` behind the wrapper of one side of the pair. */
export function wrapperCommand(side: 'tap' | 'target', argv: readonly string[]): string[] {
  const script = side === 'tap' ? TAP_WRAPPER : TARGET_WRAPPER;
  return ['/bin/sh', '-c', script, `flexcore-${side}`, ...argv];
}

function checkSide(plugin: FlexPlugin, side: 'tap' | 'target'): ConfigProblem[] {
  const name = plugin.metadata.name ?? '';
  const part = side === 'tap' ? 'step' : 'target';
  const problems: ConfigProblem[] = [];
  if (plugin.spec.type !== side || effectiveProtocol(plugin.spec) !== 'singer') {
    const message = `plugin "${name}" must be a Singer ${side} to be paired`;
    problems.push({ reason: 'PairingInvalid', message, part, plugin: name });
  }
  if ((plugin.spec.command ?? []).length === 0) {
    const message = `plugin "${name}" has no command; a paired plugin needs one, as its entrypoint is replaced by the FIFO wrapper`;
    problems.push({ reason: 'CommandRequired', message, part, plugin: name });
  }
  return problems;
}

/** What keeps a step's Singer pair from running; empty when the step is not paired. */
export function pairingProblems(input: AttemptInput): ConfigProblem[] {
  if (input.step.target === undefined || input.targetPlugin === undefined) return [];
  return [...checkSide(input.plugin, 'tap'), ...checkSide(input.targetPlugin, 'target')];
}
