/** `npx flexcore validate` as a user runs it: one clear line per bad input, never a stack trace. */
import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runFlexcore } from './support/async.js';

const flexcore = (args: string[], stdin = ''): ReturnType<typeof runFlexcore> => runFlexcore(args, { stdin });

describe('flexcore validate (CLI)', function () {
  this.timeout(30_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fc-cli-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads standard input with -', async () => {
    const r = await flexcore(
      ['validate', '-'],
      'apiVersion: flexcore.io/v1alpha1\nkind: FlexPipeline\nmetadata: {name: p}\nspec:\n  steps: [{name: a, plugin: x, dependsOn: [a]}]\n',
    );
    expect(r.code).to.equal(1);
    expect(r.stdout).to.equal(
      '<stdin>:1:spec.steps[0].dependsOn: a step cannot depend on itself\n<stdin>:1:spec.steps: dependency cycle: a -> a\n',
    );
  });

  it('says a missing file cannot be read, in one line', async () => {
    const r = await flexcore(['validate', join(dir, 'nope.yaml')]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.equal(`${join(dir, 'nope.yaml')}: cannot read: no such file or directory\n`);
    expect(r.stderr).to.not.match(/\n\s+at /);
  });

  it('reports a YAML syntax error in one line with its position', async () => {
    await writeFile(
      join(dir, 'broken.yaml'),
      'apiVersion: flexcore.io/v1alpha1\nkind: FlexPlugin\nspec:\n  image: "unterminated\n',
    );
    const r = await flexcore(['validate', join(dir, 'broken.yaml')]);
    expect(r.code).to.equal(1);
    const lines = r.stdout.trim().split('\n');
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/broken\.yaml:1:\(document\): YAML syntax error at line \d+, column \d+: /);
  });

  it('notes other kinds and passes when nothing is wrong', async () => {
    await writeFile(join(dir, 'mixed.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n');
    const r = await flexcore(['validate', join(dir, 'mixed.yaml')]);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.equal('');
    expect(r.stderr).to.include('mixed.yaml:1: note: skipping ConfigMap v1: not a FlexCore resource');
  });

  it('rejects unknown kinds of the flexcore.io group', async () => {
    const r = await flexcore(
      ['validate', '-'],
      'apiVersion: flexcore.io/v1alpha1\nkind: FlexPipe\nmetadata: {name: p}\n',
    );
    expect(r.code).to.equal(1);
    expect(r.stdout).to.equal(
      '<stdin>:1:kind: unknown kind "FlexPipe" in flexcore.io; expected FlexPlugin or FlexPipeline\n',
    );
  });

  it('answers unknown commands and options with usage and exit 2', async () => {
    const cmd = await flexcore(['frobnicate']);
    expect(cmd.code).to.equal(2);
    expect(cmd.stderr).to.include('unknown command "frobnicate"');
    const opt = await flexcore(['validate', '--strict']);
    expect(opt.code).to.equal(2);
    expect(opt.stderr).to.equal('flexcore validate: unknown option --strict\n');
  });
});
