/**
 * Benchmark: failover time of the engine's one scope (B = 1) with the product's default timings
 * (lease 15 s, renew deadline 10 s, retry period 2 s), two compiled controller processes on a
 * fresh plane, each way a leader can go: SIGTERM (graceful: the Lease is released), kill -9
 * (the Lease must expire), SIGSTOP past the lease (frozen; woken afterwards, it must step down).
 * With and without Redis. Failover time = the disruption → the standby's "acquired leadership"
 * log line (it has raised the fence and leads), both on this machine's clock.
 *
 *   node --import tsx test/bench/failover.ts     (BENCH_TRIALS trials per case, 20 by default;
 *                                                 BENCH_CASES=graceful,kill,stop to pick)
 *
 * Reports p50 / p99 / max per case and the goals: graceful p99 < 1 s; kill -9 p99 ≤ lease
 * duration + 2 × retry period (19 s).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ControlPlane } from '../../hack/plane/control-plane.js';
import { createRestrictedNamespace, installCrds } from '../../hack/plane/setup.js';
import { startPostgres } from '../../hack/services/postgres.js';
import { startRedis, type RedisServer } from '../../hack/services/redis.js';
import { median, percentile } from './stats.js';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 20);
const CASES = (process.env.BENCH_CASES ?? 'graceful,kill,stop').split(',') as Case[];
const LEASE_MS = 15_000;
const RETRY_MS = 2_000;
type Case = 'graceful' | 'kill' | 'stop';

interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<unknown>;
  /** Resolves with the time of this process's next "acquired leadership" line. */
  nextAcquisition(): Promise<number>;
  ready: Promise<void>;
}

let serial = 0;

function startProc(env: NodeJS.ProcessEnv): Proc {
  const name = `bench-${++serial}`;
  const child = spawn(process.execPath, ['dist/controller/cli/main.js', 'controller'], {
    env: { ...process.env, ...env, POD_NAME: name, LOG_LEVEL: 'info', FLEXCORE_PORT: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const waiters: ((at: number) => void)[] = [];
  let readyResolve: () => void = () => undefined;
  const ready = new Promise<void>((r) => (readyResolve = r));
  createInterface({ input: child.stderr }).on('line', (text) => {
    let line: { message?: string; timestamp?: string };
    try {
      line = JSON.parse(text) as typeof line;
    } catch {
      return;
    }
    if (line.message === 'controller started') readyResolve();
    if (line.message === 'acquired leadership')
      for (const w of waiters.splice(0)) w(Date.parse(line.timestamp!));
  });
  return {
    name,
    child,
    exited: new Promise((r) => child.once('exit', r)),
    nextAcquisition: () => new Promise((r) => waiters.push(r)),
    ready,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function runCase(kind: Case, env: NodeJS.ProcessEnv): Promise<number[]> {
  const times: number[] = [];
  let leader = startProc(env);
  await leader.nextAcquisition();
  let standby = startProc(env);
  await standby.ready;
  for (let trial = 0; trial < TRIALS; trial++) {
    await sleep(3 * RETRY_MS); // the standby has seen a few renewals: its clock on the Lease is fresh
    const acquired = standby.nextAcquisition();
    const t0 = Date.now();
    if (kind === 'graceful') leader.child.kill('SIGTERM');
    else if (kind === 'kill') leader.child.kill('SIGKILL');
    else leader.child.kill('SIGSTOP');
    const at = await Promise.race([acquired, sleep(60_000).then(() => NaN)]);
    if (Number.isNaN(at)) throw new Error(`${kind}: no take-over within 60 s`);
    times.push(at - t0);
    const old = leader;
    leader = standby;
    if (kind === 'stop') {
      old.child.kill('SIGCONT'); // it wakes up, sees the new holder and becomes the standby
      standby = old;
    } else {
      await old.exited;
      standby = startProc(env);
      await standby.ready;
    }
    process.stderr.write(`  ${kind} trial ${trial + 1}: ${at - t0} ms\n`);
  }
  for (const p of [leader, standby]) p.child.kill('SIGTERM');
  await Promise.all([leader.exited, standby.exited]);
  return times;
}

async function main(): Promise<void> {
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  const plane = await ControlPlane.start();
  const pg = await startPostgres();
  let redis: RedisServer | undefined;
  const rows: string[] = [];
  try {
    await installCrds(plane);
    redis = await startRedis();
    for (const withRedis of [false, true]) {
      for (const kind of CASES) {
        const ns = `failover-${kind}-${withRedis ? 'redis' : 'leases'}`;
        await createRestrictedNamespace(plane, ns);
        const env = {
          KUBECONFIG: plane.kubeconfigPath,
          DATABASE_URL: await pg.createDatabase(),
          WATCH_NAMESPACE: ns,
          LEADER_ELECTION_NAMESPACE: ns,
          ...(withRedis && { REDIS_URL: redis.url }),
        };
        const t = await runCase(kind, env);
        const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
        rows.push(
          `| ${kind} | ${withRedis ? 'yes' : 'no'} | ${t.length} | ${fmt(median(t))} | ${fmt(percentile(t, 99))} | ${fmt(Math.max(...t))} |`,
        );
        console.log(rows.at(-1));
      }
    }
  } finally {
    await redis?.stop();
    await pg.stop();
    await plane.stop();
  }
  console.log(
    `\nfailover with lease ${LEASE_MS / 1000} s, retry ${RETRY_MS / 1000} s (${TRIALS} trials each)`,
  );
  console.log('| leader goes by | Redis | trials | p50 | p99 | max |\n|---|---|---|---|---|---|');
  for (const r of rows) console.log(r);
  console.log(`goals: graceful p99 < 1 s; kill -9 p99 ≤ ${(LEASE_MS + 2 * RETRY_MS) / 1000} s`);
}

await main();
