import { expect } from 'chai';
import { execFile, spawnSync } from 'node:child_process';
import { chmod, cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ControlPlane } from '../../hack/plane/control-plane.js';
import { ComponentStartError, PrerequisiteError } from '../../hack/plane/errors.js';
import { ensureTools } from '../../hack/plane/tools.js';

const execFileP = promisify(execFile);
const buildScript = fileURLToPath(new URL('../../hack/build-tools.sh', import.meta.url));
const toolsDir = fileURLToPath(new URL('../../hack/tools/', import.meta.url));

function processesUnder(dir: string): string {
  const out = spawnSync('pgrep', ['-af', dir], { encoding: 'utf8' });
  return out.stdout
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.includes('pgrep'))
    .join('\n');
}

describe('control-plane harness: failures are explained and cleaned up', function () {
  this.timeout(120_000);
  const temps: string[] = [];
  const temp = async (prefix: string): Promise<string> => {
    const d = await mkdtemp(join(tmpdir(), prefix));
    temps.push(d);
    return d;
  };
  after(async () => {
    await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('says that Go is needed when it is missing and nothing is built', async () => {
    const cache = await temp('fc-cache-');
    const res = spawnSync('bash', [buildScript], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: process.env.HOME, FLEXCORE_CACHE_DIR: cache },
      encoding: 'utf8',
    });
    expect(res.status).to.equal(3);
    expect(res.stderr).to.include(
      "Go (1.24 or newer) is required to build the local control plane but 'go' is not on PATH",
    );
    expect(res.stderr).to.not.match(/\n\s+at /);
  });

  it('names the build log when the build fails', async () => {
    const cache = await temp('fc-cache-');
    const tools = await temp('fc-tools-');
    await cp(toolsDir, tools, { recursive: true });
    await writeFile(join(tools, 'kube', 'go.mod'), 'module broken\n\nthis is not a go.mod line\n');
    const res = spawnSync('bash', [buildScript], {
      env: { ...process.env, FLEXCORE_CACHE_DIR: cache, FLEXCORE_TOOLS_DIR: tools },
      encoding: 'utf8',
    });
    expect(res.status).to.equal(4);
    const match = /building etcd failed; see the build log: (\S+)/.exec(res.stderr);
    expect(match, res.stderr).to.not.equal(null);
    expect(await readFile(match![1]!, 'utf8')).to.include('go.mod');
  });

  it('reports a taken apiserver port before starting anything', async () => {
    const server: Server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const err = await ControlPlane.start({ apiserverPort: port }).then(
        async (p) => {
          await p.stop();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(PrerequisiteError);
      expect((err as Error).message).to.equal(
        `port ${port} on 127.0.0.1 is already in use; stop what listens there or pick another port`,
      );
    } finally {
      server.close();
    }
  });

  it('stops what it started when a component fails, and names its log', async () => {
    const real = await ensureTools();
    const bin = await temp('fc-bin-');
    for (const name of ['etcd', 'kube-controller-manager', 'kube-scheduler', 'kubectl', 'kwok']) {
      await symlink(join(real, name), join(bin, name));
    }
    await writeFile(
      join(bin, 'kube-apiserver'),
      '#!/bin/sh\necho "F0101 simulated start-up failure" >&2\nexit 1\n',
    );
    await chmod(join(bin, 'kube-apiserver'), 0o755);
    const dir = await temp('fc-plane-');
    const err = await ControlPlane.start({ binDir: bin, dir }).then(
      async (p) => {
        await p.stop();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ComponentStartError);
    const e = err as ComponentStartError;
    expect(e.message).to.include('kube-apiserver exited with code 1 before it was ready');
    expect(e.message).to.include(`log: ${join(dir, 'kube-apiserver.log')}`);
    expect(e.message).to.include('simulated start-up failure');
    expect(processesUnder(bin), 'etcd was left running').to.equal('');
  });

  it('cleans up every process and its directory on stop', async () => {
    const plane = await ControlPlane.start();
    const pids = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'].map(
      (n) => plane.component(n)?.pid,
    );
    expect(pids.every((p) => typeof p === 'number')).to.equal(true);
    await plane.stop();
    for (const pid of pids) {
      expect(() => process.kill(pid!, 0), `pid ${pid} still alive`).to.throw();
    }
    const { stdout } = await execFileP('ls', ['-d', plane.dir]).catch((e: { stdout: string }) => e);
    expect(stdout.trim()).to.equal('');
  });
});
