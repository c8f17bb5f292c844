/**
 * `flexcore validate` as GitOps repositories run it: from the npm package (`npm pack`, which
 * builds and bundles in prepack), installed in an empty directory outside the checkout, with no
 * tsx and no TypeScript sources. It rejects the invalid corpus, accepts the valid one, reads
 * lists and standard input, loads neither the controller nor the Kubernetes client nor pg, and
 * `flexcore schemas` writes what kubeconform -strict reads.
 */
import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { gitopsTools } from '../../hack/plane/tools.js';
import { REPO_ROOT } from './support/async.js';

const execFileP = promisify(execFile);
const fixtures = join(REPO_ROOT, 'test/fixtures/manifests');
const yamlFiles = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => join(dir, f));
const invalidFiles = yamlFiles(join(fixtures, 'invalid'));
const validDirs = [
  join(fixtures, 'valid'),
  join(REPO_ROOT, 'docs/samples'),
  join(REPO_ROOT, 'plugins/catalog'),
];

/** npm, npx and the CLI without what `npx mocha` puts in the environment (npm_config_prefix & co. would point npm at the checkout). */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd: string, stdin = ''): Promise<Result> {
  const child = spawn(cmd, args, { cwd, env: cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(stdin);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The field path a corpus file's header says validate must name (`# expect: spec.steps`). */
function expectedPath(file: string): string {
  const path = /^# expect: (\S+)$/m.exec(readFileSync(file, 'utf8'))?.[1];
  if (!path) throw new Error(`${file} lacks its "# expect:" header`);
  return path;
}

/** Records every module the process loads: ES modules through a loader hook, CommonJS from require.cache at exit. */
const HOOKS = `import { appendFileSync } from 'node:fs';
let out;
export function initialize(data) { out = data.out; }
export async function load(url, context, next) { appendFileSync(out, url + '\\n'); return next(url, context); }
`;
const REGISTER = `import { register, createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const out = process.env.FLEXCORE_MODULE_LOG;
register(new URL('./hooks.mjs', import.meta.url), { data: { out } });
const require = createRequire(import.meta.url);
process.on('exit', () => appendFileSync(out, Object.keys(require.cache).map((f) => pathToFileURL(f).href + '\\n').join('')));
`;

describe('flexcore validate from the npm package', function () {
  this.timeout(300_000);
  let tmp: string;
  let tarball: string;
  let app: string;
  let bin: string;
  const flexcore = (args: string[], stdin = ''): Promise<Result> =>
    run(process.execPath, [bin, ...args], app, stdin);

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fc-package-'));
    // prepack builds (tsc) and bundles validate into dist/ of the checkout.
    const { stdout } = await execFileP('npm', ['pack', '--silent', '--pack-destination', tmp], {
      cwd: REPO_ROOT,
      env: cleanEnv(),
      maxBuffer: 16 * 1024 * 1024,
    });
    tarball = join(tmp, stdout.trim().split('\n').pop()!);
    app = join(tmp, 'gitops-repo');
    await mkdir(app);
    await writeFile(join(app, 'package.json'), '{"name": "gitops-repo", "private": true}\n');
    const install = await run('npm', ['install', '--no-audit', '--no-fund', tarball], app);
    expect(install.code, install.stderr).to.equal(0);
    bin = join(app, 'node_modules/.bin/flexcore');
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('holds the compiled CLI and the CRDs, and no TypeScript sources', async () => {
    const { stdout } = await execFileP('tar', ['tzf', tarball]);
    const files = stdout.trim().split('\n');
    expect(files).to.include.members([
      'package/controller/cli/flexcore.mjs',
      'package/dist/controller/cli/main.js',
      'package/dist/controller/cli/validate.js',
      'package/dist/controller/cli/schemas.js',
      'package/crds/flexcore.io_flexpipelines.yaml',
      'package/crds/flexcore.io_flexplugins.yaml',
    ]);
    expect(files.filter((f) => f.endsWith('.ts'))).to.deep.equal([]);
    expect(existsSync(join(app, 'node_modules/tsx'))).to.equal(false);
  });

  it('rejects every invalid manifest of the corpus, naming the field its header expects', async () => {
    const r = await flexcore(['validate', join(fixtures, 'invalid')]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.not.match(/\n\s+at /);
    const lines = r.stdout.trim().split('\n');
    for (const file of invalidFiles) {
      const want = expectedPath(file);
      const named = lines.some((line) => {
        if (!line.startsWith(`${file}:`)) return false;
        const path = line.slice(file.length + 1).split(':')[1] ?? '';
        return path === want || path.startsWith(`${want}.`) || path.startsWith(`${want}[`);
      });
      expect(named, `${file}: expected ${want} in\n${r.stdout}`).to.equal(true);
    }
  });

  it('accepts the valid corpus', async () => {
    const r = await flexcore(['validate', ...validDirs]);
    expect(r.stdout).to.equal('');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/: no problems\n$/);
  });

  it('checks every item of a kind: List and names a bad one by its index', async () => {
    const items = validDirs
      .flatMap(yamlFiles)
      .flatMap((f) => parseAllDocuments(readFileSync(f, 'utf8'), { version: '1.1' }))
      .map((d) => d.toJS() as unknown)
      .filter((d) => d !== null);
    const list = join(tmp, 'list.yaml');
    await writeFile(list, stringify({ apiVersion: 'v1', kind: 'List', items }, { version: '1.1' }));
    const good = await flexcore(['validate', list]);
    expect(good.code, good.stdout).to.equal(0);
    expect(good.stderr).to.match(
      new RegExp(
        `1 file\\(s\\), ${items.length} document\\(s\\) \\(\\d+ of other kinds, skipped\\): no problems`,
      ),
    );

    const bad = structuredClone(items);
    const at = bad.findIndex((d) => (d as { kind?: string }).kind === 'FlexPipeline');
    (bad[at] as { spec: Record<string, unknown> }).spec.sheduled = '@daily';
    await writeFile(list, stringify({ apiVersion: 'v1', kind: 'List', items: bad }, { version: '1.1' }));
    const r = await flexcore(['validate', list]);
    expect(r.code).to.equal(1);
    expect(r.stdout).to.equal(`${list}:1:items[${at}].spec.sheduled: unknown field\n`);
  });

  it('reads multi-document YAML on standard input, as kustomize build | flexcore validate - gives it', async () => {
    const stream = validDirs
      .flatMap(yamlFiles)
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n---\n');
    const good = await flexcore(['validate', '-'], stream);
    expect(good.code, good.stdout).to.equal(0);
    const bad = await flexcore(
      ['validate', '-'],
      `${stream}\n---\n${readFileSync(invalidFiles[0]!, 'utf8')}`,
    );
    expect(bad.code).to.equal(1);
    expect(bad.stdout).to.match(/^<stdin>:\d+:\S+: /);
  });

  it('loads only the bundled validate: no controller, Kubernetes client or pg', async () => {
    await writeFile(join(tmp, 'hooks.mjs'), HOOKS);
    await writeFile(join(tmp, 'register.mjs'), REGISTER);
    const log = join(tmp, 'modules.txt');
    await writeFile(log, '');
    const child = spawn(
      process.execPath,
      ['--import', join(tmp, 'register.mjs'), bin, 'validate', join(fixtures, 'valid')],
      { cwd: app, env: { ...cleanEnv(), FLEXCORE_MODULE_LOG: log }, stdio: 'ignore' },
    );
    expect(await new Promise((r) => child.once('exit', r))).to.equal(0);
    const modules = [...new Set((await readFile(log, 'utf8')).trim().split('\n'))];
    const pkg = `file://${join(app, 'node_modules')}/`;
    const ours = modules.filter((m) => m.startsWith(`${pkg}flexcore/`)).map((m) => m.slice(pkg.length));
    expect(ours.sort()).to.deep.equal([
      'flexcore/controller/cli/flexcore.mjs',
      'flexcore/dist/controller/cli/main.js',
      'flexcore/dist/controller/cli/validate.js',
    ]);
    const others = modules.filter((m) => m.startsWith(pkg) && !m.startsWith(`${pkg}flexcore/`));
    expect(others, 'zod, yaml and croner are bundled into validate.js').to.deep.equal([]);
  });

  it('runs with npx --package TARBALL in an empty directory', async () => {
    const empty = join(tmp, 'empty');
    await mkdir(empty);
    const file = join(fixtures, 'valid', '01-postgres-to-snowflake.yaml');
    const r = await run('npx', ['--yes', '--package', tarball, 'flexcore', 'validate', file], empty);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/1 file\(s\), \d+ document\(s\): no problems/);
  });

  describe('flexcore schemas', () => {
    let out: string;
    before(async () => {
      out = join(tmp, 'schemas');
      const r = await flexcore(['schemas', out]);
      expect(r.code, r.stderr).to.equal(0);
    });

    it('writes both kinds in the CRD-catalog layout kubeconform reads', () => {
      expect(readdirSync(out)).to.deep.equal(['flexcore.io']);
      expect(readdirSync(join(out, 'flexcore.io')).sort()).to.deep.equal([
        'flexpipeline_v1alpha1.json',
        'flexplugin_v1alpha1.json',
      ]);
      const schema = JSON.parse(
        readFileSync(join(out, 'flexcore.io/flexpipeline_v1alpha1.json'), 'utf8'),
      ) as {
        additionalProperties: unknown;
        properties: { kind: { enum: string[] } };
      };
      expect(schema.additionalProperties).to.equal(false);
      expect(schema.properties.kind.enum).to.deep.equal(['FlexPipeline']);
    });

    it('kubeconform -strict accepts the valid corpus with them and refuses unknown fields', async () => {
      const { kubeconform } = await gitopsTools();
      const location = join(out, '{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json');
      const args = ['-strict', '-summary', '-skip', 'Secret,ConfigMap', '-schema-location', location];
      const good = await run(kubeconform, [...args, ...validDirs], app);
      expect(good.code, good.stdout).to.equal(0);
      for (const name of ['plugin-unknown-spec-field', 'step-unknown-field', 'sandbox-unknown-field']) {
        const bad = await run(kubeconform, [...args, join(fixtures, 'invalid', `${name}.yaml`)], app);
        expect(bad.code, `${name}: ${bad.stdout}`).to.equal(1);
        expect(bad.stdout).to.include('additional properties');
      }
    });
  });
});
