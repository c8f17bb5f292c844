/**
 * Where things are inside a step Pod: container and volume names, mount paths and the files
 * of the per-attempt Secret. Plugin images rely on these paths (see plugins/README.md).
 */

/** Containers: `plugin` for a single step, `tap` and `target` for a Singer pair, `discover` for a tap's discovery. */
export const CONTAINERS = { plugin: 'plugin', tap: 'tap', target: 'target', discover: 'discover' } as const;
export type ContainerName = (typeof CONTAINERS)[keyof typeof CONTAINERS];

/** Keys of the per-attempt Secret, which are also the file names under CONFIG_DIR. */
export const CONFIG_FILES = {
  config: 'config.json',
  targetConfig: 'target-config.json',
  state: 'state.json',
  catalog: 'catalog.json',
} as const;

/** Where the per-attempt Secret is mounted (read-only) in every container. */
export const CONFIG_DIR = '/flexcore/config';

/** The always-writable scratch directory; the root filesystem is read-only. */
export const SCRATCH_DIR = '/tmp';

/** The directory shared by a Singer pair, and the FIFO in it that carries the stream. */
export const PIPE_DIR = '/flexcore/pipe';
export const PIPE_PATH = `${PIPE_DIR}/stream`;

/** Paths a plugin may not claim as writablePaths: FlexCore mounts its own volumes there. */
export const RESERVED_DIR = '/flexcore';

export const VOLUMES = {
  scratch: 'scratch',
  config: 'config',
  targetConfig: 'target-config',
  pipe: 'pipe',
} as const;

/** The path of a file of the per-attempt Secret inside a container. */
export function configPath(file: string): string {
  return `${CONFIG_DIR}/${file}`;
}
