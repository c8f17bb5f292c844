/** The compiled build (what the Docker image runs) works without tsx or the TypeScript sources. */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

describe('compiled build (tsc -p tsconfig.build.json)', function () {
  this.timeout(120_000);
  let out: string;
  before(async () => {
    // Inside the checkout, so the output resolves node_modules and package.json like dist/ does.
    await mkdir(join(root, '.tmp'), { recursive: true });
    out = await mkdtemp(join(root, '.tmp', 'build-'));
  });
  after(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('compiles, and the compiled CLI validates the samples', async () => {
    await execFileP(join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json', '--outDir', out], {
      cwd: root,
    });
    const { stderr } = await execFileP(
      process.execPath,
      [join(out, 'controller/cli/main.js'), 'validate', 'plugins/catalog', 'docs/samples'],
      {
        cwd: root,
      },
    );
    expect(stderr).to.match(/4 file\(s\), 6 document\(s\): no problems/);
  });
});
