/**
 * hadolint (PyPI, installed by hack/install-hadolint.sh) lints every Containerfile the project
 * ships: the controller's Dockerfile and the plugin images under plugins/images/.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './support/async.js';

const run = promisify(execFile);

function containerfilesUnder(dir: string): string[] {
  const root = join(REPO_ROOT, dir);
  return readdirSync(root)
    .map((d) => join(root, d, 'Containerfile'))
    .filter((f) => existsSync(f));
}

function containerfiles(): string[] {
  return [
    join(REPO_ROOT, 'Dockerfile'),
    ...containerfilesUnder('plugins/images'),
    ...containerfilesUnder('hack/images'),
  ];
}

async function hadolint(args: string[], input?: string): Promise<{ code: number; out: string }> {
  const { stdout } = await run('bash', [join(REPO_ROOT, 'hack/install-hadolint.sh')]);
  const bin = stdout.trim();
  return new Promise((resolve) => {
    const child = execFile(bin, args, (err, out, errOut) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${out}${errOut}` }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

describe('Containerfiles (hadolint)', function () {
  this.timeout(120_000);

  for (const file of containerfiles()) {
    it(`${relative(REPO_ROOT, file)} passes hadolint`, async () => {
      const { code, out } = await hadolint([file]);
      expect(out.trim(), out).to.equal('');
      expect(code).to.equal(0);
    });
  }

  it('catches what it should (an unpinned base, root, apt without a version)', async () => {
    const { code, out } = await hadolint(
      ['-'],
      'FROM debian:latest\nUSER root\nRUN apt-get update && apt-get install -y curl\n',
    );
    expect(code).to.not.equal(0);
    expect(out).to.match(/DL3007/); // latest tag
    expect(out).to.match(/DL3008/); // pin apt versions
    expect(out).to.match(/DL3002/); // last USER root
  });
});
