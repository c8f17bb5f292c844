/**
 * The real node's harness: one node per machine (a second start is refused, naming the
 * holder), and a run that died without stopping (kill -9 of the harness while a Pod runs)
 * leaves nothing the next start does not clean up.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ControlPlane } from '../../hack/plane/control-plane.js';
import { PrerequisiteError } from '../../hack/plane/errors.js';
import { nodeBaseDir } from '../../hack/plane/node/real-node.js';
import { killProcessesMentioning, mountsUnder, processesMentioning } from '../../hack/plane/node/host.js';
import { REPO_ROOT } from './support/async.js';
import { sharedPlane, stopSharedPlane } from './support/plane.js';

/** A harness process that starts a plane with the real node and a sleeping Pod on it. */
const CHILD = `
import { ControlPlane } from './hack/plane/control-plane.js';
import { createRestrictedNamespace } from './hack/plane/setup.js';
import { REAL_NODE_PLACEMENT } from './hack/plane/node/node-config.js';
const plane = await ControlPlane.start({ realNode: true });
await plane.realNode.ensureImages(['python']);
await createRestrictedNamespace(plane, 'doomed');
await plane.kubectl(['apply', '-f', '-'], JSON.stringify({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'sleeper', namespace: 'doomed' },
  spec: { restartPolicy: 'Never', ...REAL_NODE_PLACEMENT,
    securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [{ name: 'c', image: 'localhost/python:3.11-slim-bookworm', imagePullPolicy: 'Never',
      command: ['sleep', '3600'],
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }] },
}));
for (;;) {
  const phase = await plane.kubectl(['-n', 'doomed', 'get', 'pod', 'sleeper', '-o', 'jsonpath={.status.phase}']);
  if (phase === 'Running') break;
  await new Promise((r) => setTimeout(r, 100));
}
console.log('dir ' + plane.dir);
console.log('running');
await new Promise(() => undefined);
`;

/** Checks the prerequisites and prints the error's name and message. */
const CHECK = `
import { checkHostTools } from './hack/plane/node/prerequisites.js';
await checkHostTools().then(() => console.log('ok'), (e) => console.log(e.name + ': ' + e.message));
`;

/** Pids of processes whose command line is exactly `sleep 3600` (the doomed Pod's). */
function sleepers(): number[] {
  return processesMentioning('sleep').filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === 'sleep\u00003600\u0000';
    } catch {
      return false;
    }
  });
}

describe('real node harness', function () {
  this.timeout(300_000);

  it('names everything missing and the command that installs it, before anything starts', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', CHECK],
      // No programs on PATH: containerd, ctr, runc, iptables, ip and umount are all "missing".
      { cwd: REPO_ROOT, env: { ...process.env, PATH: '/nonexistent' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => child.once('exit', r));
    expect(out).to.contain('PrerequisiteError');
    for (const cmd of ['containerd', 'ctr', 'runc', 'iptables'])
      expect(out).to.contain(`${cmd} is not on PATH`);
    expect(out).to.contain('bash hack/install-node.sh');
  });

  it('refuses a second real node on the machine, naming the process that holds it', async () => {
    await sharedPlane(); // holds the machine's real node
    const err = await ControlPlane.start({ realNode: true }).then(
      async (p) => {
        await p.stop();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(PrerequisiteError);
    expect((err as Error).message).to.contain(`process ${process.pid} holds`);
  });

  it('cleans up after a harness killed with -9 while a Pod ran: no container, shim or mount is left', async () => {
    await stopSharedPlane();
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((r) => child.once('exit', r));
    let childDir = '/nonexistent';
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (l) => {
        if (l.startsWith('dir ')) childDir = l.slice(4);
        if (l === 'running') resolve();
      });
      child.once('exit', (code) =>
        reject(new Error(`the harness child exited ${String(code)} before its Pod ran`)),
      );
    });
    expect(sleepers()).to.have.length(1);
    child.kill('SIGKILL');
    await exited;
    // The dead harness's control plane is not the real node's to clean: the test does it.
    killProcessesMentioning(childDir);
    await rm(childDir, { recursive: true, force: true });
    // The child's own exit hook never ran: its Pod's process is still there, under a shim.
    expect(sleepers()).to.have.length(1);

    const base = nodeBaseDir();
    const plane = await ControlPlane.start({ realNode: true });
    try {
      expect(sleepers(), 'the old container').to.deep.equal([]);
      const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
      expect(
        mountsUnder([join(base, 'kubelet')], mountinfo).filter((m) => m.includes('/pods/')),
        'old Pod volumes',
      ).to.deep.equal([]);
      // The new node works.
      expect(
        await plane.kubectl([
          'get',
          'node',
          plane.realNode!.name,
          '-o',
          'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
        ]),
      ).to.equal('True');
    } finally {
      await plane.stop();
    }
    expect(processesMentioning(base), 'processes of the node after stop').to.deep.equal([]);
    expect(
      mountsUnder([base], readFileSync('/proc/self/mountinfo', 'utf8')),
      'mounts after stop',
    ).to.deep.equal([]);
  });
});
