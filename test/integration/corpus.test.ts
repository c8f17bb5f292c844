/**
 * The manifest corpus: every invalid manifest is rejected by `flexcore validate` with a
 * problem naming the field; the real kube-apiserver (server-side dry-run, strict field
 * validation) gives the verdict the file's header states, and the valid manifests pass both.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ControlPlane } from '../../hack/plane/control-plane.js';
import { createRestrictedNamespace } from '../../hack/plane/setup.js';
import { validateText } from '../../controller/cli/validate.js';
import { sharedPlane, uniqueName } from './support/plane.js';

const execFileP = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = join(root, 'test/fixtures/manifests');
const yamlFiles = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => join(dir, f));

interface InvalidCase {
  readonly file: string;
  readonly expectPath: string;
  readonly apiserver: 'rejects' | 'accepts';
}

function readInvalid(file: string): InvalidCase {
  const text = readFileSync(file, 'utf8');
  const expectPath = /^# expect: (\S+)$/m.exec(text)?.[1];
  const apiserver = /^# apiserver: (rejects|accepts)$/m.exec(text)?.[1] as
    InvalidCase['apiserver'] | undefined;
  if (!expectPath || !apiserver) throw new Error(`${file} lacks its "# expect:" or "# apiserver:" header`);
  return { file, expectPath, apiserver };
}

const invalid = yamlFiles(join(fixtures, 'invalid')).map(readInvalid);
const valid = [
  ...yamlFiles(join(fixtures, 'valid')),
  ...yamlFiles(join(root, 'docs/samples')),
  ...yamlFiles(join(root, 'plugins/catalog')),
];
const rel = (f: string): string => f.slice(root.length);

/** Problem lines (`file:doc:path: message`) that `flexcore validate` prints for a file. */
function problemsOf(file: string): string[] {
  return validateText(rel(file), readFileSync(file, 'utf8'))
    .findings.filter((f) => f.severity === 'problem')
    .map((f) => f.text);
}

describe('manifest corpus: flexcore validate and kube-apiserver agree', function () {
  this.timeout(180_000);
  let plane: ControlPlane;
  let ns: string;

  /** The apiserver's verdict: undefined when a server-side dry-run accepts the file, else its error. */
  const dryRun = async (file: string): Promise<string | undefined> => {
    try {
      await plane.kubectl(['create', '--dry-run=server', '--validate=strict', '-n', ns, '-f', file]);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  };

  before(async () => {
    plane = await sharedPlane();
    ns = uniqueName('corpus');
    await createRestrictedNamespace(plane, ns);
  });

  it('has at least 30 invalid and 6 valid manifests', () => {
    expect(invalid.length).to.be.at.least(30);
    expect(valid.length).to.be.at.least(6);
  });

  describe('invalid manifests', () => {
    for (const c of invalid) {
      it(`${rel(c.file)}: validate names ${c.expectPath}; apiserver ${c.apiserver}`, async () => {
        const problems = problemsOf(c.file);
        const named = problems.some((line) => {
          const path = line.split(':')[2] ?? '';
          return (
            path === c.expectPath ||
            path.startsWith(`${c.expectPath}.`) ||
            path.startsWith(`${c.expectPath}[`)
          );
        });
        expect(named, `flexcore validate said:\n${problems.join('\n')}`).to.equal(true);
        const verdict = await dryRun(c.file);
        if (c.apiserver === 'rejects') expect(verdict, 'the apiserver accepted it').to.be.a('string');
        else
          expect(verdict, 'the apiserver rejected what the header says it cannot judge').to.equal(undefined);
      });
    }
  });

  describe('valid manifests', () => {
    for (const file of valid) {
      it(`${rel(file)} passes flexcore validate and a server-side dry-run`, async () => {
        expect(problemsOf(file)).to.deep.equal([]);
        expect(await dryRun(file)).to.equal(undefined);
      });
    }
  });

  it('the CLI exits 1 and prints a line for every invalid file, and 0 for the valid ones', async () => {
    const cli = join(root, 'controller/cli/flexcore.mjs');
    const bad = await execFileP(process.execPath, [cli, 'validate', join(fixtures, 'invalid')], {
      cwd: root,
    }).then(
      () => ({ code: 0, stdout: '', stderr: '' }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(bad.code).to.equal(1);
    for (const c of invalid)
      expect(bad.stdout).to.include(`${join(fixtures, 'invalid')}/${c.file.split('/').pop()}:`);
    expect(bad.stderr).to.not.match(/\n\s+at /);
    const good = await execFileP(
      process.execPath,
      [cli, 'validate', join(fixtures, 'valid'), join(root, 'docs/samples')],
      {
        cwd: root,
      },
    );
    expect(good.stderr).to.match(/: no problems\n$/);
  });
});
