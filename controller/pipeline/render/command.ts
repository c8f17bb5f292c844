/** The command and arguments of a step container, by protocol and pairing. */
import type { V1Container } from '@kubernetes/client-node';
import { TerminalError } from '../../reconcile/errors.js';
import type { ContainerPlan } from './container-plan.js';
import { CONFIG_FILES, configPath } from './layout.js';
import { wrapperCommand } from './singer-wrapper.js';

/** The Singer arguments: `--config <file>`, and `--state <file>` for a tap with state. */
export function singerArgs(plan: ContainerPlan): string[] {
  const args = ['--config', configPath(plan.configFile)];
  if (plan.state) args.push('--state', configPath(CONFIG_FILES.state));
  return args;
}

/**
 * plain: the plugin's command and args as given. Singer: the plugin's args, then the Singer
 * arguments, after the plugin's command (or the image entrypoint). A pair: all of it behind
 * the FIFO wrapper, which needs the command.
 */
export function containerArgv(plan: ContainerPlan): Pick<V1Container, 'command' | 'args'> {
  const { command, args } = plan.plugin.spec;
  // Copies: the Pod must not share arrays with the (cached) plugin object.
  const entrypoint = command ? { command: [...command] } : {};
  if (plan.singer === undefined) return { ...entrypoint, ...(args ? { args: [...args] } : {}) };
  const all = [...(args ?? []), ...singerArgs(plan)];
  if (!plan.paired) return { ...entrypoint, args: all };
  if (command === undefined || command.length === 0)
    throw new TerminalError(`plugin ${plan.plugin.metadata.name} has no command to pair`, 'CommandRequired');
  return { command: wrapperCommand(plan.singer, [...command, ...all]) };
}
