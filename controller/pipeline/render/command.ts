/** The command and arguments of a step container, by protocol and pairing. */
import type { V1Container } from '@kubernetes/client-node';
import { TerminalError } from '../../reconcile/errors.js';
import type { ContainerPlan } from './container-plan.js';
import { CONFIG_FILES, configPath } from './layout.js';
import { discoveryCommand } from './discovery-wrapper.js';
import { wrapperCommand } from './singer-wrapper.js';

/**
 * The Singer arguments: `--config <file>`; for a tap `--state <file>` with state, `--catalog`
 * (or `--properties`) with a catalog, or `--discover` in a discovery attempt.
 */
export function singerArgs(plan: ContainerPlan): string[] {
  const args = ['--config', configPath(plan.configFile)];
  if (plan.discover) return [...args, '--discover'];
  if (plan.state) args.push('--state', configPath(CONFIG_FILES.state));
  if (plan.catalog) args.push(plan.catalog, configPath(CONFIG_FILES.catalog));
  return args;
}

/**
 * plain: the plugin's command and args as given. Singer: the plugin's args, then the Singer
 * arguments, after the plugin's command (or the image entrypoint). A pair: all of it behind
 * the FIFO wrapper, which needs the command; a discovery: behind the discovery wrapper, likewise.
 */
export function containerArgv(plan: ContainerPlan): Pick<V1Container, 'command' | 'args'> {
  const { command, args } = plan.plugin.spec;
  // Copies: the Pod must not share arrays with the (cached) plugin object.
  const entrypoint = command ? { command: [...command] } : {};
  if (plan.singer === undefined) return { ...entrypoint, ...(args ? { args: [...args] } : {}) };
  const all = [...(args ?? []), ...singerArgs(plan)];
  if (!plan.paired && !plan.discover) return { ...entrypoint, args: all };
  if (command === undefined || command.length === 0)
    throw new TerminalError(`plugin ${plan.plugin.metadata.name} has no command to wrap`, 'CommandRequired');
  if (plan.discover) return { command: discoveryCommand([...command, ...all]) };
  return { command: wrapperCommand(plan.singer, [...command, ...all]) };
}
