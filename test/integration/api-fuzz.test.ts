/**
 * A schema-driven fuzz of the status API: schemathesis (PyPI, installed by
 * hack/install-schemathesis.sh) reads GET /api/v1/openapi.json from a controller process and
 * sends what the document allows — and, in its negative mode, what it does not — to every
 * operation. No answer may be a 5xx, and each must have a documented status, content type and
 * body schema. The controller validates its own JSON answers against their zod schemas
 * (FLEXCORE_API_VALIDATE_RESPONSES answers 500 on a mismatch), so a schema break shows twice.
 */
import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { createRestrictedNamespace } from '../../hack/plane/setup.js';
import type { ControlPlane } from '../../hack/plane/control-plane.js';
import {
  apiClient,
  apiReplicaEnv,
  applyLoggedPipeline,
  seedRuns,
  serviceAccountToken,
  type ApiClient,
  type SeedRun,
} from './support/api.js';
import { REPO_ROOT } from './support/async.js';
import { eventually } from './support/engine.js';
import { pipeline } from './support/manifests.js';
import { sharedPlane, uniqueName } from './support/plane.js';
import { startReplica, tail, type Replica } from './support/replicas.js';
import { freshStore, type TestStore } from './support/store.js';

const run = promisify(execFile);

const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
];
/** Test cases per operation and phase: enough to find the edges, small enough for ~1 minute. */
const MAX_EXAMPLES = 15;
const SEED = 20240601;

const PHASES = ['Succeeded', 'Failed', 'Cancelled'] as const;
const TRIGGERS = ['Generation', 'Manual', 'Schedule'] as const;

/** 40 runs of alpha and beta, a few still running, and 5 in another namespace. */
function history(ns: string, other: string, base: number): SeedRun[] {
  const mine = Array.from({ length: 40 }, (_, i): SeedRun => {
    const startedAt = new Date(base + i * 60_000);
    return {
      runId: `f${String(i).padStart(2, '0')}-seed`,
      namespace: ns,
      pipeline: i % 2 === 0 ? 'alpha' : 'beta',
      trigger: TRIGGERS[i % 3]!,
      startedAt,
      ...(i % 13 !== 12 && { finished: { phase: PHASES[i % 3]!, at: new Date(startedAt.getTime() + 5000) } }),
    };
  });
  const theirs = Array.from({ length: 5 }, (_, i): SeedRun => ({
    runId: `o${i}-seed`,
    namespace: other,
    pipeline: 'gamma',
    trigger: 'Manual',
    startedAt: new Date(base + i * 60_000),
    finished: { phase: 'Succeeded', at: new Date(base + i * 60_000 + 1000) },
  }));
  return [...mine, ...theirs];
}

/** Values schemathesis draws path and query parameters from (half of the time), so cases reach real data. */
type Known = Record<
  'namespace' | 'name' | 'runId' | 'step' | 'pipeline' | 'labelSelector' | 'pageToken' | 'after',
  string[]
>;

/** schemathesis.toml: dictionaries of known values bound to the parameters of those names. */
function config(known: Known): string {
  const list = (values: string[]): string => `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;
  const dictionaries = Object.entries(known).map(([k, v]) => `[dictionaries.${k}]\nvalues = ${list(v)}\n`);
  const binding = (key: string, dict: string): string =>
    `${JSON.stringify(key)} = { dictionary = "${dict}", probability = 0.5 }`;
  const parameters = [
    ...['namespace', 'name', 'runId', 'step'].map((k) => binding(`path.${k}`, k)),
    ...['namespace', 'pipeline', 'labelSelector', 'pageToken', 'after'].map((k) => binding(`query.${k}`, k)),
  ];
  return `${dictionaries.join('\n')}\n[parameters]\n${parameters.join('\n')}\n`;
}

/** Runs schemathesis to the end (killed after `timeoutMs`); its exit code and everything it printed. */
async function schemathesis(
  args: string[],
  cwd: string,
  timeoutMs: number,
): Promise<{ code: number | null; out: string }> {
  const { stdout } = await run('bash', [join(REPO_ROOT, 'hack/install-schemathesis.sh')]);
  const child = spawn(stdout.trim(), args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, out };
}

describe('status API: a schemathesis fuzz from the OpenAPI document (a controller process, real RBAC)', function () {
  this.timeout(300_000);
  let plane: ControlPlane;
  let db: TestStore;
  let replica: Replica;
  let ns: string;
  let work: string;
  let token: string;
  let api: ApiClient;
  let known: Known;

  before(async () => {
    plane = await sharedPlane();
    ns = uniqueName('fuzz');
    const other = uniqueName('fuzz-other');
    await createRestrictedNamespace(plane, ns);
    await createRestrictedNamespace(plane, other);
    db = await freshStore(10);
    replica = startReplica('fuzz-0', apiReplicaEnv(plane, db.url, ns));
    await replica.port();
    await seedRuns(db.store, history(ns, other, Date.now() - 24 * 3600_000));
    // Reads everywhere, and logs; no write verb (patch, create). The commands and other POSTs are
    // fuzzed too: the router validates parameters and body before it authorizes, so their 400s
    // are exercised, and every valid one stops at 403 — the fuzz never starts or cancels a run.
    token = await serviceAccountToken(
      plane,
      ns,
      'fuzzer',
      [{ resources: ['flexpipelines', 'flexplugins', 'flexpipelines/log'], verbs: ['get', 'list'] }],
      true,
    );
    api = apiClient(() => replica.port(), token);
    // alpha and beta never run (their plugin is absent); real runs once, so a run has steps,
    // attempts and stored logs.
    await plane.kubectl(
      ['-n', ns, 'apply', '-f', '-'],
      [
        {
          ...pipeline('alpha', { steps: [{ name: 'a', plugin: 'absent' }] }),
          metadata: { name: 'alpha', labels: { tier: 'gold' } },
        },
        {
          ...pipeline('beta', { steps: [{ name: 'b', plugin: 'absent' }], schedule: '0 3 * * *' }),
          metadata: { name: 'beta', labels: { tier: 'silver' } },
        },
      ]
        .map((d) => stringify(d))
        .join('---\n'),
    );
    await applyLoggedPipeline(plane, ns);
    const lastRun = await eventually(async () => {
      const p = (
        await api.get<{ lastRun?: { id: string; phase: string } }>(`/api/v1/namespaces/${ns}/pipelines/real`)
      ).body;
      return p.lastRun?.phase === 'Succeeded' && p.lastRun;
    });
    const page = await api.get<{ nextPageToken?: string }>(`/api/v1/namespaces/${ns}/runs?limit=5`);
    const feed = await api.get<{ nextCursor?: string }>(`/api/v1/events?namespace=${ns}&limit=5`);
    known = {
      namespace: [ns, other],
      name: ['alpha', 'beta', 'real', 'work'],
      runId: [lastRun.id, 'f00-seed', 'f01-seed', 'f12-seed', 'o0-seed'],
      step: ['extract', 'load'],
      pipeline: ['alpha', 'real', `${ns}/real`, `${other}/gamma`],
      labelSelector: ['tier=gold', 'tier notin (gold)', 'tier'],
      pageToken: page.body.nextPageToken ? [page.body.nextPageToken] : ['none'],
      after: feed.body.nextCursor ? [feed.body.nextCursor] : ['0'],
    };
    work = await mkdtemp(join(tmpdir(), 'flexcore-fuzz-'));
  });

  after(async () => {
    await replica?.stop();
    if (replica && replica.lines.some((l) => l.level === 'error')) console.log(tail(replica.lines, 20));
    await db?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('finds no 5xx and no answer outside the document', async () => {
    const port = await replica.port();
    const configPath = join(work, 'schemathesis.toml');
    await writeFile(configPath, config(known));
    const args = [
      '--config-file',
      configPath,
      'run',
      `http://127.0.0.1:${port}/api/v1/openapi.json`,
      '--url',
      `http://127.0.0.1:${port}`,
      '--header',
      `Authorization: Bearer ${token}`,
      '--checks',
      CHECKS.join(','),
      // The stream never ends: a case would only stop at the request timeout.
      '--exclude-operation-id',
      'streamEvents',
      // Valid requests and invalid ones (those must be refused with a documented 4xx).
      '--mode',
      'all',
      '--max-examples',
      String(MAX_EXAMPLES),
      '--seed',
      String(SEED),
      '--generation-database',
      'none',
      // One thread: CPython 3.11 keeps the AST recursion depth per interpreter, so ast.parse in two
      // threads at once (hypothesis does it while building strategies) can fail with a spurious
      // "AST constructor recursion depth mismatch" SystemError (CPython gh-106905).
      '--workers',
      '1',
      '--request-timeout',
      '15',
      '--no-color',
    ];
    const doc = await api.request<{ paths: Record<string, Record<string, unknown>> }>(
      'GET',
      '/api/v1/openapi.json',
    );
    const operations = Object.values(doc.body.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
    const t0 = Date.now();
    const { code, out } = await schemathesis(args, work, 240_000);
    const seconds = ((Date.now() - t0) / 1000).toFixed(1);
    console.log(`      (schemathesis ran in ${seconds} s: ${/\d+ generated[^\n]*/.exec(out)?.[0] ?? '?'})`);
    const failures = replica.lines
      .filter((l) => l.message === 'status API request failed')
      .map((l) => `  ${String(l.operationId)}: ${String(l.error)}`);
    const logged = failures.length > 0 ? `\nthe controller's log of its 500s:\n${failures.join('\n')}` : '';
    expect(code, `${out}${logged}`).to.equal(0);
    const [, selected, total] = /Selected: (\d+)\/(\d+)/.exec(out) ?? [];
    const tested = /Tested: (\d+)/.exec(out)?.[1];
    const summary = out
      .split('\n')
      .filter((l) => /Tested|Selected|Skipped|Errors/i.test(l))
      .join('\n');
    expect(
      [Number(selected), Number(tested)],
      `every operation but the stream was tested:\n${summary}`,
    ).to.deep.equal([Number(total) - 1, Number(total) - 1]);
    expect(Number(total), 'the document schemathesis read is the one served').to.be.within(
      operations - 1,
      operations,
    );
  });
});
