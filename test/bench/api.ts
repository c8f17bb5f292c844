/**
 * Benchmark: the status API over a big history. 100,000 runs (200,000 attempts, 600,000 events)
 * are written into a fresh store; one controller process (compiled, as in the image) serves the
 * API; autocannon offers a fixed 500 requests/s on loopback to each endpoint: the first page of
 * runs, a page 50,000 runs deep (through the API's own page tokens), a filtered page, a
 * pipeline's page, a run's detail, the feed from the middle. Each is run BENCH_RUNS times (3)
 * for BENCH_SECONDS (10); the report gives medians of p50 / p99 and of the rate achieved, and
 * each p99 as a ratio of /healthz's at the same rate (the HTTP stack's floor, measured in the
 * same run). Then 1,000 idle live-stream clients: the controller's resident memory before and
 * after. Authorization is off (`--api-auth=none`) except in one run of the first page with
 * Kubernetes authorization (decisions cached), to show what it costs.
 *
 *   npm run bench:api            (BENCH_ONLY=<regex> measures only the endpoints it matches)
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import autocannon from 'autocannon';
import pg from 'pg';
import { ControlPlane } from '../../hack/plane/control-plane.js';
import { freePort } from '../../hack/plane/ports.js';
import { createRestrictedNamespace, installCrds } from '../../hack/plane/setup.js';
import { startPostgres } from '../../hack/services/postgres.js';
import { migrate } from '../../controller/store/migrate.js';
import { memoryMiB } from './proc.js';
import { median } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RATE = Number(process.env.BENCH_RATE ?? 500);
const HISTORY = Number(process.env.BENCH_HISTORY ?? 100_000);
const STREAM_CLIENTS = 1000;

/** The history, written straight into the tables (what is measured is reading it). */
export async function seed(url: string): Promise<void> {
  const db = new pg.Pool({ connectionString: url, max: 2 });
  await migrate(db);
  await db.query(`
    INSERT INTO flexcore_read.runs (run_id, pipeline_namespace, pipeline_name, trigger, phase, started_at, finished_at, last_position)
    SELECT 'r-' || i, 'ns-' || (i % 10), 'p-' || (i % 100), (ARRAY['Generation','Manual','Schedule'])[1 + i % 3],
           CASE WHEN i % 50 = 0 THEN 'Failed' ELSE 'Succeeded' END,
           (now() - interval '${HISTORY} minutes') + i * interval '1 minute', (now() - interval '${HISTORY} minutes') + i * interval '1 minute' + interval '42 s', i
      FROM generate_series(1, ${HISTORY}) i`);
  await db.query(`
    INSERT INTO flexcore_read.step_attempts (run_id, step, attempt, pod, phase, exit_code, scheduled_at, started_at, finished_at, duration_ms, last_position)
    SELECT 'r-' || i, s, 1, 'p-' || (i % 100) || '-' || i || '-' || s || '-1', 'Succeeded', 0,
           (now() - interval '${HISTORY} minutes') + i * interval '1 minute', (now() - interval '${HISTORY} minutes') + i * interval '1 minute' + interval '1 s',
           (now() - interval '${HISTORY} minutes') + i * interval '1 minute' + interval '20 s', 19000, i
      FROM generate_series(1, ${HISTORY}) i CROSS JOIN (VALUES ('extract'), ('load')) st (s)`);
  await db.query(`
    INSERT INTO flexcore.events (stream_id, stream_version, event_id, type, data, fence, fencing_token)
    SELECT 'pipeline-' || (i % 100), i * 6 + k, gen_random_uuid(), t,
           jsonb_build_object('runId', 'r-' || i, 'step', 'extract', 'attempt', 1, 'at', '2026-01-01T00:00:00Z'), 'bench', 1
      FROM generate_series(1, ${HISTORY}) i
      CROSS JOIN unnest(ARRAY['RunStarted', 'StepAttemptScheduled', 'StepAttemptStarted', 'StepAttemptFinished', 'LogTailCaptured', 'RunFinished']) WITH ORDINALITY e (t, k)`);
  await db.query(`INSERT INTO flexcore_read.run_summary
    SELECT (started_at AT TIME ZONE 'UTC')::date, pipeline_namespace, pipeline_name, phase, count(*), count(*) * 42000,
           ARRAY[0,0,0,0,0,count(*),0,0,0,0,0,0,0,0,0,0,0]::bigint[], max(last_position)
      FROM flexcore_read.runs GROUP BY 1, 2, 3, 4`);
  await db.query('ANALYZE');
  await db.end();
}

interface Figures {
  p50: number;
  p99: number;
  rate: number;
  errors: number;
}

/** One fixed-rate run against `paths` (taken in turn). */
async function load(port: number, paths: string[], headers: Record<string, string> = {}): Promise<Figures> {
  let next = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: 16,
    overallRate: RATE,
    duration: SECONDS,
    headers,
    requests: [
      {
        setupRequest: (req) => ({ ...req, path: paths[next++ % paths.length]! }),
      },
    ],
  });
  return {
    p50: result.latency.p50,
    p99: result.latency.p99,
    rate: result.requests.average,
    errors: result.non2xx + result.errors + result.timeouts,
  };
}

async function measure(port: number, paths: string[], headers?: Record<string, string>): Promise<Figures> {
  await load(port, paths, headers).catch(() => undefined); // warm-up (JIT, plans, pools)
  const runs: Figures[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await load(port, paths, headers));
  return {
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    rate: median(runs.map((r) => r.rate)),
    errors: runs.reduce((a, r) => a + r.errors, 0),
  };
}

async function startController(
  plane: ControlPlane,
  url: string,
  ns: string,
  auth: string,
): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/controller/cli/main.js', 'controller'], {
    env: {
      ...process.env,
      KUBECONFIG: plane.kubeconfigPath,
      DATABASE_URL: url,
      WATCH_NAMESPACE: ns,
      LEADER_ELECT: 'false',
      FLEXCORE_PORT: String(port),
      FLEXCORE_API_AUTH: auth,
      FLEXCORE_API_POOL_SIZE: '8',
      POD_NAME: 'bench-api',
      LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; ; i++) {
    if (
      await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    if (i > 600) throw new Error('the controller did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, child };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** The nextPageToken after `depth` runs of /runs (the API's own token for a deep page). */
async function deepToken(port: number, depth: number): Promise<string> {
  let token = '';
  for (let seen = 0; seen < depth; seen += 500) {
    const res = await fetch(
      `http://127.0.0.1:${port}/api/v1/runs?limit=500${token ? `&pageToken=${token}` : ''}`,
    );
    token = ((await res.json()) as { nextPageToken: string }).nextPageToken;
  }
  return token;
}

/** Opens `n` live streams that stay idle; resolves once each got its response head. */
async function idleStreams(port: number, n: number): Promise<Socket[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Socket>((resolve, reject) => {
          const s = connect(port, '127.0.0.1', () =>
            s.write('GET /api/v1/stream HTTP/1.1\r\nHost: bench\r\n\r\n'),
          );
          s.once('data', () => resolve(s));
          s.on('data', () => undefined);
          s.once('error', reject);
        }),
    ),
  );
}

async function main(): Promise<void> {
  console.log('building the controller (npm run build)');
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  const plane = await ControlPlane.start({});
  const postgres = await startPostgres();
  try {
    await installCrds(plane);
    await createRestrictedNamespace(plane, 'bench-api');
    const url = await postgres.createDatabase();
    const t0 = Date.now();
    await seed(url);
    console.log(
      `seeded ${HISTORY} runs, ${HISTORY * 2} attempts, ${HISTORY * 6} events in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    const { port, child } = await startController(plane, url, 'bench-api', 'none');
    const deep = await deepToken(port, HISTORY / 2);
    const ids = Array.from({ length: 1000 }, (_, i) => 1 + ((i * 97) % HISTORY));
    const after = (await (await fetch(`http://127.0.0.1:${port}/api/v1/events?limit=1000`)).json()) as {
      items: { cursor: string }[];
    };
    const mid = after.items[after.items.length - 1]!.cursor;
    const endpoints: [string, string[]][] = [
      ['/healthz (the floor)', ['/healthz']],
      ['runs, first page', ['/api/v1/runs?limit=50']],
      ['runs, page 50,000 deep', [`/api/v1/runs?limit=50&pageToken=${deep}`]],
      ['runs, failed only', ['/api/v1/runs?phase=Failed&limit=50']],
      [
        'runs of one pipeline',
        Array.from(
          { length: 100 },
          (_, p) => `/api/v1/namespaces/ns-${p % 10}/pipelines/p-${p}/runs?limit=50`,
        ),
      ],
      [
        'a run with its attempts',
        ids.map((i) => `/api/v1/namespaces/ns-${i % 10}/pipelines/p-${i % 100}/runs/r-${i}`),
      ],
      ['the feed, 100 events', [`/api/v1/events?after=${mid}&limit=100`]],
      ['summary by pipeline, 7 days', ['/api/v1/summary?groupBy=pipeline']],
      [
        'summary by day, 60 days',
        [`/api/v1/summary?since=${new Date(Date.now() - 60 * 86_400_000).toISOString().slice(0, 10)}`],
      ],
    ];
    const rows: [string, Figures][] = [];
    const only = new RegExp(process.env.BENCH_ONLY ?? '.'); // e.g. BENCH_ONLY='feed|healthz'
    for (const [name, paths] of endpoints.filter(([n], i) => i === 0 || only.test(n))) {
      const f = await measure(port, paths);
      rows.push([name, f]);
      console.log(`${name}: p50 ${f.p50} ms, p99 ${f.p99} ms, ${f.rate} req/s, ${f.errors} errors`);
    }
    const rssBefore = memoryMiB(child.pid, 'VmRSS');
    const sockets = await idleStreams(port, STREAM_CLIENTS);
    await new Promise((r) => setTimeout(r, 3000));
    const rssAfter = memoryMiB(child.pid, 'VmRSS');
    for (const s of sockets) s.destroy();
    await stop(child);

    const secured = await startController(plane, url, 'bench-api', 'kubernetes');
    const token = execFileSync(
      `${plane.binDir}/kubectl`,
      ['--kubeconfig', plane.kubeconfigPath, 'create', 'token', 'default', '-n', 'bench-api'],
      {
        encoding: 'utf8',
      },
    ).trim();
    execFileSync(`${plane.binDir}/kubectl`, [
      '--kubeconfig',
      plane.kubeconfigPath,
      'create',
      'clusterrolebinding',
      'bench-api-admin',
      '--clusterrole=cluster-admin',
      '--serviceaccount=bench-api:default',
    ]);
    const withAuth = await measure(secured.port, ['/api/v1/runs?limit=50'], {
      Authorization: `Bearer ${token}`,
    });
    rows.push(['runs, first page, Kubernetes authorization', withAuth]);
    await stop(secured.child);

    const floor = rows[0]![1];
    console.log(
      `\n${HISTORY} runs; ${RATE} requests/s offered for ${SECONDS} s, median of ${RUNS} runs each\n`,
    );
    console.log('| endpoint | p50 ms | p99 ms | p99 / floor | req/s | errors |');
    console.log('|---|---|---|---|---|---|');
    for (const [name, f] of rows) {
      console.log(
        `| ${name} | ${f.p50} | ${f.p99} | ${(f.p99 / Math.max(floor.p99, 1)).toFixed(1)} | ${f.rate} | ${f.errors} |`,
      );
    }
    const first = rows.find(([n]) => n === 'runs, first page')?.[1];
    const deepF = rows.find(([n]) => n === 'runs, page 50,000 deep')?.[1];
    if (first && deepF)
      console.log(`\ndeep page / first page, p50: ${(deepF.p50 / Math.max(first.p50, 0.001)).toFixed(2)}`);
    console.log(
      `${STREAM_CLIENTS} idle stream clients: resident memory ${rssBefore.toFixed(0)} → ${rssAfter.toFixed(0)} MiB (+${(rssAfter - rssBefore).toFixed(1)} MiB)`,
    );
    // The issue's goal covers the run lists, a run's detail and the feed; the summary is reported beside it.
    const worst = Math.max(
      ...rows.filter(([n]) => !n.startsWith('summary') && !n.startsWith('/healthz')).map(([, f]) => f.p99),
    );
    console.log(
      `goal p99 < 50 ms at ${RATE} req/s (run lists, a run, the feed): ${worst < 50 ? 'met' : 'NOT met'} (worst ${worst} ms)`,
    );
  } finally {
    await postgres.stop();
    await plane.stop();
  }
}

if (process.argv[1]?.endsWith('api.ts')) await main();
