/**
 * The helm binary hack/ builds, run against one plane with its own config, cache and data
 * directories (so a user's ~/.config/helm is never read or written).
 */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** helm exited non-zero; `output` is what it printed. */
export class HelmError extends Error {
  override name = 'HelmError';
  constructor(
    readonly args: readonly string[],
    readonly output: string,
  ) {
    super(`helm ${args.join(' ')} failed:\n${output}`);
  }
}

export class Helm {
  private constructor(
    private readonly bin: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** A helm for the cluster of `kubeconfig`; `plugins` is a HELM_PLUGINS directory. */
  static async create(bin: string, kubeconfig: string | undefined, plugins?: string): Promise<Helm> {
    const home = await mkdtemp(join(tmpdir(), 'flexcore-helm-'));
    return new Helm(bin, {
      PATH: process.env.PATH,
      HOME: home,
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_DATA_HOME: join(home, 'data'),
      ...(plugins && { HELM_PLUGINS: plugins }),
      ...(kubeconfig && { KUBECONFIG: kubeconfig }),
    });
  }

  /** Runs helm; resolves with stdout, rejects with a HelmError carrying stdout and stderr. */
  async run(args: readonly string[], timeoutMs = 600_000): Promise<string> {
    try {
      const { stdout } = await execFileP(this.bin, [...args], {
        env: this.env,
        maxBuffer: 64 * 1024 * 1024,
        timeout: timeoutMs,
      });
      return stdout;
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new HelmError(args, `${e.stdout ?? ''}${e.stderr ?? e.message}`);
    }
  }

  /** The error output of a helm command that must fail. */
  async failure(args: readonly string[]): Promise<string> {
    try {
      await this.run(args);
    } catch (err) {
      if (err instanceof HelmError) return err.output;
      throw err;
    }
    throw new Error(`helm ${args.join(' ')} succeeded but should have failed`);
  }
}
