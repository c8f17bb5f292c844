/**
 * What the real node needs from the machine, checked before anything starts, so a missing
 * piece is one clear error naming the fix instead of a kubelet log to read.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PrerequisiteError } from '../errors.js';

const run = promisify(execFile);

/** The machine's programs the node runs. */
export interface HostTools {
  readonly containerd: string;
  readonly ctr: string;
  readonly runc: string;
  readonly cniBinDir: string;
}

const CNI_PLUGINS = ['bridge', 'host-local', 'loopback', 'portmap'] as const;
const CNI_DIRS = ['/usr/lib/cni', '/opt/cni/bin'] as const;

async function which(cmd: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('sh', ['-c', `command -v ${cmd}`]);
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Resolves the host tools, or throws a PrerequisiteError listing everything missing:
 * root, containerd and ctr, runc, the CNI plugins, iptables, ip and mount.
 */
export async function checkHostTools(): Promise<HostTools> {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) {
    problems.push(
      'the real node needs root (containerd, runc and Pod networking change the host); run as root',
    );
  }
  const found = new Map<string, string>();
  for (const cmd of ['containerd', 'ctr', 'runc', 'iptables', 'ip', 'umount']) {
    const path = await which(cmd);
    if (path) found.set(cmd, path);
    else problems.push(`${cmd} is not on PATH`);
  }
  const cniBinDir = CNI_DIRS.find((d) => CNI_PLUGINS.every((p) => existsSync(join(d, p))));
  if (!cniBinDir) {
    problems.push(`the CNI plugins ${CNI_PLUGINS.join(', ')} are in none of ${CNI_DIRS.join(', ')}`);
  }
  if (problems.length > 0 || !cniBinDir) {
    throw new PrerequisiteError(
      `the real node cannot start:\n  - ${problems.join('\n  - ')}\n` +
        'Install what is missing with: bash hack/install-node.sh (Debian: containerd, runc, containernetworking-plugins, iptables)',
    );
  }
  return {
    containerd: found.get('containerd')!,
    ctr: found.get('ctr')!,
    runc: found.get('runc')!,
    cniBinDir,
  };
}
