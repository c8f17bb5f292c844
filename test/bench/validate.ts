/**
 * Benchmark: `flexcore validate` as GitOps CI runs it, from the npm package installed in an
 * empty directory (npm pack, which builds and bundles, then npm install of the tarball). Cold
 * start on one valid file and the whole manifest corpus (test/fixtures/manifests, docs/samples,
 * plugins/catalog), each a whole process; per file = (corpus − one file) / (files − 1).
 * Measured in the same run, in turn: `node -e 0` (Node's own start, the floor) and kubeconform
 * -strict with the schemas `flexcore schemas` writes (KUBECONFORM, else hack/plane/tools.ts's
 * locator; without it, FlexCore's figures only). Medians of the runs, wall clock and CPU (user +
 * system, which a loaded machine disturbs less); ratios pair by pair.
 *
 *   node --import tsx test/bench/validate.ts [runs=9]
 *   FLEXCORE_BENCH_APP=DIR  reuse a directory where the tarball is installed already
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gitopsTools } from '../../hack/plane/tools.js';
import { median } from './stats.js';

const execFileP = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const runs = Number(process.argv[2] ?? 9);
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

interface Timing {
  /** Seconds from spawn to exit. */
  readonly wall: number;
  /** User + system CPU seconds of the process and its children (bash's `times`). */
  readonly cpu: number;
}

/** bash runs the command (output discarded) and prints its children's CPU times: Node cannot ask wait4 for them. */
const WRAPPER = '"$@" >/dev/null 2>&1 </dev/null; rc=$?; times; exit $rc';

/** One whole process; its exit code must be one of `codes`. */
async function timed(cmd: string, args: string[], codes: number[], cwd: string): Promise<Timing> {
  const t0 = performance.now();
  const child = spawn('bash', ['-c', WRAPPER, 'bench', cmd, ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  const wall = (performance.now() - t0) / 1000;
  if (code === null || !codes.includes(code)) throw new Error(`${cmd} ${args.join(' ')} exited ${code}`);
  // Second line: the children's user and system times, as "0m0.168s 0m0.020s".
  const seconds = (out.trim().split('\n')[1] ?? '').split(' ').map((t) => {
    const m = /^(\d+)m([\d.]+)s$/.exec(t);
    return m ? Number(m[1]) * 60 + Number(m[2]) : NaN;
  });
  return { wall, cpu: (seconds[0] ?? NaN) + (seconds[1] ?? NaN) };
}

async function yamlFilesIn(dir: string): Promise<string[]> {
  return (await readdir(dir))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => join(dir, f));
}

async function installPackage(): Promise<{ app: string; cleanup: () => Promise<void> }> {
  const reuse = process.env.FLEXCORE_BENCH_APP;
  if (reuse) return { app: reuse, cleanup: () => Promise.resolve() };
  const tmp = await mkdtemp(join(tmpdir(), 'fc-bench-validate-'));
  const { stdout } = await execFileP('npm', ['pack', '--silent', '--pack-destination', tmp], {
    cwd: root,
    env,
    maxBuffer: 16 * 1024 * 1024,
  });
  const app = join(tmp, 'app');
  await mkdir(app);
  await writeFile(join(app, 'package.json'), '{"name": "bench", "private": true}\n');
  const tarball = join(tmp, stdout.trim().split('\n').pop()!);
  await execFileP('npm', ['install', '--no-audit', '--no-fund', tarball], { cwd: app, env });
  return { app, cleanup: () => rm(tmp, { recursive: true, force: true }) };
}

async function locateKubeconform(): Promise<string | undefined> {
  if (process.env.KUBECONFORM) return process.env.KUBECONFORM;
  try {
    return (await gitopsTools()).kubeconform;
  } catch (err) {
    console.log(`kubeconform not available (${(err as Error).message}): FlexCore's figures only`);
    return undefined;
  }
}

const fixtures = join(root, 'test/fixtures/manifests');
const corpus = [
  ...(await yamlFilesIn(join(fixtures, 'invalid'))),
  ...(await yamlFilesIn(join(fixtures, 'valid'))),
  ...(await yamlFilesIn(join(root, 'docs/samples'))),
  ...(await yamlFilesIn(join(root, 'plugins/catalog'))),
];
const one = join(fixtures, 'valid/01-postgres-to-snowflake.yaml');

const { app, cleanup } = await installPackage();
const bin = join(app, 'node_modules/.bin/flexcore');
const schemas = join(app, 'schemas');
await execFileP(process.execPath, [bin, 'schemas', schemas], { cwd: app, env });
const kubeconform = await locateKubeconform();
const kcArgs = [
  '-strict',
  '-skip',
  'Secret,ConfigMap',
  '-schema-location',
  join(schemas, '{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json'),
];

/** The commands timed, in turn, each run. */
const commands: Record<string, () => Promise<Timing>> = {
  'node -e 0 (floor)': () => timed(process.execPath, ['-e', '0'], [0], app),
  'flexcore validate, 1 file': () => timed(process.execPath, [bin, 'validate', one], [0], app),
  [`flexcore validate, ${corpus.length} files`]: () =>
    timed(process.execPath, [bin, 'validate', ...corpus], [1], app),
  ...(kubeconform
    ? {
        'kubeconform -strict, 1 file': () => timed(kubeconform, [...kcArgs, one], [0], app),
        [`kubeconform -strict, ${corpus.length} files`]: () =>
          timed(kubeconform, [...kcArgs, ...corpus], [1], app),
      }
    : {}),
};

try {
  const names = Object.keys(commands);
  for (const name of names) await commands[name]!(); // warm-up: page cache, npm's bin link
  const times: Record<string, Timing[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < runs; i++) for (const name of names) times[name]!.push(await commands[name]!());

  const of = (name: string, k: keyof Timing): number[] => times[name]!.map((t) => t[k]);
  const med = (name: string, k: keyof Timing = 'wall'): number => median(of(name, k));
  const pairRatio = (a: string, b: string, k: keyof Timing = 'wall'): number =>
    median(of(a, k).map((t, i) => t / of(b, k)[i]!));
  const ms = (s: number): string => (s * 1000).toFixed(0);
  console.log(`${runs} runs each, in turn; medians (ms); corpus: ${corpus.length} files`);
  console.log('command | wall | wall min–max | cpu | wall / node -e 0');
  for (const name of names) {
    const w = of(name, 'wall');
    console.log(
      `${name} | ${ms(med(name))} | ${ms(Math.min(...w))}–${ms(Math.max(...w))} | ${ms(med(name, 'cpu'))} | ${pairRatio(name, names[0]!).toFixed(2)}`,
    );
  }
  const perFile = (single: string, all: string, k: keyof Timing): string =>
    (((med(all, k) - med(single, k)) / (corpus.length - 1)) * 1000).toFixed(2);
  const [floor, fc1, fcAll, kc1, kcAll] = names as [string, string, string, string?, string?];
  console.log(
    `flexcore validate per file (ms): wall ${perFile(fc1, fcAll, 'wall')}, cpu ${perFile(fc1, fcAll, 'cpu')}`,
  );
  console.log(`flexcore cold start over Node's own start (ms, wall): ${ms(med(fc1) - med(floor))}`);
  if (kc1 && kcAll) {
    console.log(
      `kubeconform per file (ms): wall ${perFile(kc1, kcAll, 'wall')}, cpu ${perFile(kc1, kcAll, 'cpu')}`,
    );
    for (const k of ['wall', 'cpu'] as const) {
      console.log(
        `flexcore / kubeconform (${k}): 1 file ${pairRatio(fc1, kc1, k).toFixed(2)}, corpus ${pairRatio(fcAll, kcAll, k).toFixed(2)}`,
      );
    }
  }
  console.log(
    `cold start goal < 300 ms (wall median): ${med(fc1) < 0.3 ? 'met' : 'not met'} (${ms(med(fc1))} ms)`,
  );
} finally {
  await cleanup();
}
