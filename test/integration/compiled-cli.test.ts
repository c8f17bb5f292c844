/**
 * The controller as the image runs it: compiled by `npm run build`'s steps (tsc, then the SQL
 * files copied next to the JavaScript) and started with plain node, no tsx. Catches what only
 * the compiled tree can miss, such as a file the code reads beside itself.
 */
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FlexPipelineStatus } from '../../api/v1alpha1/index.js';
import { freePort } from '../../hack/plane/ports.js';
import { createRestrictedNamespace } from '../../hack/plane/setup.js';
import { REPO_ROOT } from './support/async.js';
import { eventually } from './support/engine.js';
import { fake, pipeline, plugin } from './support/manifests.js';
import { sharedPlane, uniqueName } from './support/plane.js';
import { freshStore, type TestStore } from './support/store.js';
import { stringify } from 'yaml';

// Inside the checkout, so the compiled files resolve node_modules as the image's do.
const OUT = join(REPO_ROOT, '.tmp', 'dist-test');

describe('compiled controller (as in the image)', function () {
  this.timeout(180_000);
  let db: TestStore | undefined;
  after(async () => {
    await db?.close();
    rmSync(OUT, { recursive: true, force: true });
  });

  it('builds, migrates the event store and runs a pipeline to Succeeded', async () => {
    rmSync(OUT, { recursive: true, force: true });
    const tsc = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', OUT], { cwd: REPO_ROOT });
    execFileSync(process.execPath, ['hack/copy-assets.mjs', OUT], { cwd: REPO_ROOT });

    const plane = await sharedPlane();
    const namespace = uniqueName('compiled');
    await createRestrictedNamespace(plane, namespace);
    db = await freshStore(5);
    const port = await freePort();
    const child = spawn(process.execPath, [join(OUT, 'controller/cli/main.js'), 'controller'], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        KUBECONFIG: plane.kubeconfigPath,
        DATABASE_URL: db.url,
        WATCH_NAMESPACE: namespace,
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
      await plane.kubectl(['apply', '-n', namespace, '-f', '-'], docs.map((d) => stringify(d)).join('---\n'));
      await eventually(
        async () => {
          const p = JSON.parse(
            await plane.kubectl(['get', 'flexpipeline', 'once', '-n', namespace, '-o', 'json']),
          ) as { status?: FlexPipelineStatus };
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
