/** Locates (building when missing) the control-plane binaries made by hack/build-tools.sh. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ComponentStartError, PrerequisiteError } from './errors.js';

const script = fileURLToPath(new URL('../build-tools.sh', import.meta.url));

/**
 * Returns the directory holding etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler, kubectl and kwok. Builds them first when the cache lacks them; progress
 * goes to stderr.
 */
export async function ensureTools(): Promise<string> {
  return buildTools([]);
}

/** The same for the real node: kubelet, kube-proxy and the pause binary. */
export async function ensureNodeTools(): Promise<string> {
  return buildTools(['--node']);
}

async function buildTools(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', (err) =>
      reject(new PrerequisiteError(`cannot run bash for ${script}: ${err.message}`)),
    );
    child.once('exit', (code) => {
      const dir = out.trim().split('\n').pop() ?? '';
      if (code === 0 && dir) resolve(dir);
      else if (code === 3)
        reject(
          new PrerequisiteError(
            'Go 1.24 or newer is required to build the local control plane (see the message above)',
          ),
        );
      else
        reject(
          new ComponentStartError(
            `building ${args.includes('--node') ? 'the node binaries' : 'the control plane'} failed (exit ${String(code)}); see the message above`,
            '',
          ),
        );
    });
  });
}
