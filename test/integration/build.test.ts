/**
 * The compiled build (what the Docker image runs) works without tsx or the TypeScript sources:
 * `npm run build`'s steps (tsc, then hack/copy-assets.mjs for the SQL the code reads beside
 * itself) into a directory of its own, then plain node.
 */
import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import type { FlexPipelineStatus } from '../../api/v1alpha1/index.js';
import { freePort } from '../../hack/plane/ports.js';
import { REPO_ROOT } from './support/async.js';
import { eventually } from './support/engine.js';
import { fake, pipeline, plugin } from './support/manifests.js';
import { restrictedNamespace } from './support/plane.js';
import { freshStore, type TestStore } from './support/store.js';

const execFileP = promisify(execFile);

describe('compiled build (as in the image)', function () {
  this.timeout(180_000);
  let out: string;
  let db: TestStore | undefined;
  before(async () => {
    // Inside the checkout, so the output resolves node_modules and package.json like dist/ does.
    await mkdir(join(REPO_ROOT, '.tmp'), { recursive: true });
    out = await mkdtemp(join(REPO_ROOT, '.tmp', 'build-'));
    const tsc = join(REPO_ROOT, 'node_modules/.bin/tsc');
    await execFileP(tsc, ['-p', 'tsconfig.build.json', '--outDir', out], { cwd: REPO_ROOT });
    await execFileP(process.execPath, ['hack/copy-assets.mjs', out], { cwd: REPO_ROOT });
  });
  after(async () => {
    await db?.close();
    await rm(out, { recursive: true, force: true });
  });

  it('compiles, and the compiled CLI validates the samples', async () => {
    const { stderr } = await execFileP(
      process.execPath,
      [join(out, 'controller/cli/main.js'), 'validate', 'plugins/catalog', 'docs/samples'],
      { cwd: REPO_ROOT },
    );
    // The samples hold Secrets and a ConfigMap too: counted as other kinds, skipped.
    expect(stderr).to.match(/5 file\(s\), 9 document\(s\) \(3 of other kinds, skipped\): no problems/);
  });

  it('the compiled controller migrates the event store and runs a pipeline to Succeeded', async () => {
    const { plane, ns } = await restrictedNamespace('compiled');
    db = await freshStore(5);
    const port = await freePort();
    const child = spawn(process.execPath, [join(out, 'controller/cli/main.js'), 'controller'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        KUBECONFIG: plane.kubeconfigPath,
        DATABASE_URL: db.url,
        WATCH_NAMESPACE: ns,
        FLEXCORE_PORT: String(port),
        LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await eventually(
        async () => {
          if (child.exitCode !== null) throw new Error(`the controller exited: ${stderr}`);
          return fetch(`http://127.0.0.1:${port}/readyz`).then(
            (r) => r.ok,
            () => false,
          );
        },
        60_000,
        'the compiled controller to be ready',
      );
      const docs = [
        plugin('work'),
        pipeline('once', { steps: [{ name: 'a', plugin: 'work', podMetadata: fake() }] }),
      ];
      await plane.kubectl(['apply', '-n', ns, '-f', '-'], docs.map((d) => stringify(d)).join('---\n'));
      await eventually(
        async () => {
          const p = JSON.parse(
            await plane.kubectl(['get', 'flexpipeline', 'once', '-n', ns, '-o', 'json']),
          ) as {
            status?: FlexPipelineStatus;
          };
          return p.status?.phase === 'Succeeded';
        },
        60_000,
        'the pipeline to succeed',
      );
      const { rows } = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM flexcore.events');
      expect(Number(rows[0]!.n)).to.be.greaterThan(0);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    expect(stderr).to.not.include('ENOENT');
  });
});
