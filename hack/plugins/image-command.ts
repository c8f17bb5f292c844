/**
 * Runs commands inside a locally built image with buildah (no daemon, no registry, no node):
 * `buildah from` a working container, `buildah run` each command as the image's USER with its
 * ENV, `buildah rm`. About a second per command once the image is built
 * (hack/build-images.sh). Needs root, like the image builds.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** What one command in the image did. */
export interface ImageCommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The containers.conf hack/build-images.sh writes (runc, cgroupfs, ulimits root can grant):
 * buildah's defaults (crun) fail on this machine's cgroups.
 */
export function containersConf(env: NodeJS.ProcessEnv = process.env): string {
  const own = env['FLEXCORE_CACHE_DIR'];
  const root = own ?? join(env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'flexcore');
  return join(root, 'images', 'containers.conf');
}

function buildah(args: readonly string[]): Promise<ImageCommandResult> {
  const env = { ...process.env, CONTAINERS_CONF: containersConf() };
  return new Promise((resolve) => {
    execFile('buildah', args, { env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? Number((err as { code?: unknown }).code ?? 1) || 1 : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function buildahOk(args: readonly string[]): Promise<string> {
  const r = await buildah(args);
  if (r.code !== 0) throw new Error(`buildah ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/**
 * Runs each command (argv, no shell) in one working container of `image`, in order, and
 * removes the container. A command's non-zero exit is a result, not an error.
 */
export async function runInImage(
  image: string,
  commands: readonly (readonly string[])[],
): Promise<ImageCommandResult[]> {
  // A name of our own: other runs may use the same image at the same time.
  const name = `flexcore-run-${randomBytes(4).toString('hex')}`;
  await buildahOk(['from', '--quiet', '--pull=never', '--name', name, image]);
  try {
    const results: ImageCommandResult[] = [];
    for (const argv of commands)
      results.push(await buildah(['run', '--isolation', 'chroot', name, '--', ...argv]));
    return results;
  } finally {
    await buildahOk(['rm', name]);
  }
}
