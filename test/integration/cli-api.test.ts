/**
 * `flexcore runs | logs | run | cancel | watch | state` as a user runs them, against a controller process
 * with real RBAC: a ServiceAccount token from the environment or from a kubeconfig.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { stringify } from 'yaml';
import { freePort } from '../../hack/plane/ports.js';
import { createRestrictedNamespace } from '../../hack/plane/setup.js';
import type { ControlPlane } from '../../hack/plane/control-plane.js';
import {
  apiReplicaEnv,
  applyLoggedPipeline,
  seedRuns,
  serviceAccountToken,
  type SeedRun,
} from './support/api.js';
import { REPO_ROOT, runFlexcore } from './support/async.js';
import { eventually } from './support/engine.js';
import { fake, pipeline, plugin } from './support/manifests.js';
import { sharedPlane, uniqueName } from './support/plane.js';
import { startReplica, tail, type Replica } from './support/replicas.js';
import { freshStore, type TestStore } from './support/store.js';

interface RunItem {
  runId: string;
  pipeline: string;
  trigger: string;
  phase: string;
}

interface FeedLine {
  type: string;
  cursor: string;
  data: { runId?: string };
}

/** `flexcore watch ARGS` running in the background: its stdout lines, its stderr, Ctrl-C. */
function startWatch(
  args: string[],
  env: NodeJS.ProcessEnv,
): { lines: string[]; stderr: () => string; interrupt(): Promise<number | null> } {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'controller/cli/flexcore.mjs'), 'watch', ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let stderr = '';
  createInterface({ input: child.stdout }).on('line', (l) => lines.push(l));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  return {
    lines,
    stderr: () => stderr,
    async interrupt() {
      child.kill('SIGINT');
      const code = await Promise.race([
        exited,
        new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000)),
      ]);
      if (code === 'hung') {
        child.kill('SIGKILL');
        throw new Error(`watch did not stop on SIGINT: ${stderr}`);
      }
      return code;
    },
  };
}

describe('flexcore runs, logs, run, cancel, watch (CLI against a controller process)', function () {
  this.timeout(300_000);
  let plane: ControlPlane;
  let db: TestStore;
  let replica: Replica;
  let replicaEnv: NodeJS.ProcessEnv;
  let ns: string;
  let token: string;
  let home: string;
  let server: string;
  const seeded: SeedRun[] = [];

  /** The environment of a user with no kubeconfig: URL and token from FLEXCORE_API_URL / FLEXCORE_TOKEN. */
  const userEnv = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: home,
    FLEXCORE_API_URL: server,
    FLEXCORE_TOKEN: token,
    ...extra,
  });
  const flexcore = (args: string[], extra?: NodeJS.ProcessEnv): ReturnType<typeof runFlexcore> =>
    runFlexcore(args, { env: userEnv(extra) });
  const json = async <T>(args: string[]): Promise<T> => {
    const r = await flexcore([...args, '-o', 'json']);
    expect(r.code, r.stderr).to.equal(0);
    return JSON.parse(r.stdout) as T;
  };
  const runsOf = async (name: string): Promise<RunItem[]> =>
    (await json<{ items: RunItem[] }>(['runs', name, '-n', ns])).items;

  before(async () => {
    plane = await sharedPlane();
    ns = uniqueName('cli-api');
    await createRestrictedNamespace(plane, ns);
    db = await freshStore(10);
    const port = await freePort();
    server = `http://127.0.0.1:${port}`;
    replicaEnv = {
      ...apiReplicaEnv(plane, db.url, ns),
      FLEXCORE_PORT: String(port),
    };
    replica = startReplica('cli-0', replicaEnv);
    await replica.port();
    home = await mkdtemp(join(tmpdir(), 'fc-cli-home-'));
    token = await serviceAccountToken(plane, ns, 'cli-user', [
      { resources: ['flexpipelines', 'flexplugins', 'flexpipelines/log'], verbs: ['get', 'list', 'patch'] },
    ]);
    const base = Date.now() - 3600_000;
    seeded.push(
      ...(['Succeeded', 'Failed', 'Succeeded'] as const).map((phase, i) => ({
        runId: `hist-${i}-seed`,
        namespace: ns,
        pipeline: 'history',
        trigger: 'Schedule' as const,
        startedAt: new Date(base + i * 60_000),
        finished: { phase, at: new Date(base + i * 60_000 + 42_000) },
      })),
    );
    await seedRuns(db.store, seeded);
    await applyLoggedPipeline(plane, ns);
  });

  after(async () => {
    await replica?.stop();
    if (replica && replica.lines.some((l) => l.level === 'error')) console.log(tail(replica.lines, 20));
    await db?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('lists runs as a table, newest first, and as JSON page by page', async () => {
    const table = await flexcore(['runs', 'history', '-n', ns]);
    expect(table.code, table.stderr).to.equal(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).to.match(/^RUN\s+PIPELINE\s+TRIGGER\s+PHASE\s+STARTED\s+DURATION$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 4))).to.deep.equal(
      [...seeded].reverse().map((r) => [r.runId, 'history', 'Schedule', r.finished!.phase]),
    );
    expect(lines[1]).to.match(/\s(5[6-9]|6\d)m ago\s+42s$/);

    const page = await json<{ items: RunItem[]; nextPageToken?: string }>([
      'runs',
      'history',
      '-n',
      ns,
      '--limit',
      '2',
    ]);
    expect(page.items.map((r) => r.runId)).to.deep.equal(['hist-2-seed', 'hist-1-seed']);
    expect(page.nextPageToken).to.be.a('string');
    const all = await json<{ items: RunItem[]; nextPageToken?: string }>([
      'runs',
      '-n',
      ns,
      '--all',
      '--limit',
      '1',
      '--phase',
      'Succeeded',
    ]);
    expect(all.items.filter((r) => r.pipeline === 'history').map((r) => r.runId)).to.deep.equal([
      'hist-2-seed',
      'hist-0-seed',
    ]);
    expect(all).to.not.have.property('nextPageToken');
    const more = await flexcore(['runs', 'history', '-n', ns, '--limit', '1']);
    expect(more.stderr).to.include('--all');
  });

  it("takes the token and the namespace from the kubeconfig's current context", async () => {
    await mkdir(join(home, '.kube'), { recursive: true });
    await writeFile(
      join(home, '.kube', 'config'),
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': 'cli',
        clusters: [{ name: 'plane', cluster: { server: 'https://127.0.0.1:1' } }],
        contexts: [{ name: 'cli', context: { cluster: 'plane', user: 'cli-user', namespace: ns } }],
        users: [{ name: 'cli-user', user: { token } }],
      }),
    );
    try {
      const r = await runFlexcore(['runs', 'history', '-o', 'json'], {
        env: { PATH: process.env.PATH, HOME: home, FLEXCORE_API_URL: server },
      });
      expect(r.code, r.stderr).to.equal(0);
      expect((JSON.parse(r.stdout) as { items: unknown[] }).items).to.have.length(3);
    } finally {
      await rm(join(home, '.kube'), { recursive: true, force: true });
    }
  });

  it('says what went wrong in one line: no token, no permission, bad input, no server', async () => {
    const anonymous = await flexcore(['runs', '-n', ns], { FLEXCORE_TOKEN: '' });
    expect(anonymous.code).to.equal(1);
    expect(anonymous.stderr).to.match(/^flexcore runs: no bearer token.*give --token or FLEXCORE_TOKEN/);
    const denied = await flexcore(['runs', '-n', 'kube-system']);
    expect(denied.code).to.equal(1);
    expect(denied.stderr).to.equal(
      `flexcore runs: user "system:serviceaccount:${ns}:cli-user" cannot list flexpipelines.flexcore.io in namespace "kube-system"\n`,
    );
    const bad = await flexcore(['runs', '-n', ns, '--phase', 'Exploded']);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.match(/^flexcore runs: query parameter "phase": /);
    const missing = await flexcore(['logs', 'no-such-run', '-n', ns]);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.equal(`flexcore logs: no run "no-such-run" in namespace "${ns}"\n`);
    const noServer = await flexcore(['runs'], { FLEXCORE_API_URL: '' });
    expect(noServer.code).to.equal(2);
    expect(noServer.stderr).to.include('--server URL or set FLEXCORE_API_URL');
    for (const r of [anonymous, denied, bad, missing, noServer]) expect(r.stderr).to.not.match(/\n\s+at /);
  });

  it('prints the stored logs of every step, or of one', async () => {
    const run = await eventually(async () => {
      const r = (await runsOf('real'))[0];
      return r?.phase === 'Succeeded' && r;
    });
    const every = await flexcore(['logs', run.runId, '-n', ns]);
    expect(every.code, every.stderr).to.equal(0);
    expect(every.stdout).to.equal(
      '==> step extract, attempt 1 <==\nextracted 3 rows\n==> step load, attempt 1 <==\nloaded 3 rows\n',
    );
    const one = await flexcore([
      'logs',
      run.runId,
      'load',
      '-n',
      ns,
      '--attempt',
      '1',
      '--container',
      'plugin',
    ]);
    expect(one.code, one.stderr).to.equal(0);
    expect(one.stdout).to.equal('loaded 3 rows\n');
    const noStep = await flexcore(['logs', run.runId, 'transform', '-n', ns]);
    expect(noStep.code).to.equal(1);
    expect(noStep.stderr).to.equal(
      `flexcore logs: run ${run.runId} has no step "transform" (its steps: extract, load)\n`,
    );
    const noAttempt = await flexcore(['logs', run.runId, 'load', '-n', ns, '--attempt', '2']);
    expect(noAttempt.code).to.equal(1);
    expect(noAttempt.stderr).to.match(/^flexcore logs: no log stored for step "load" attempt 2/);
  });

  it('starts a run and cancels it; cancelling a finished run exits 1', async () => {
    await plane.kubectl(
      ['-n', ns, 'apply', '-f', '-'],
      stringify(pipeline('long', { steps: [{ name: 'wait', plugin: 'work', podMetadata: fake(0, '1h') }] })),
    );
    const generation = await eventually(async () => {
      const r = (await runsOf('long'))[0];
      return r?.phase === 'Running' && r;
    });
    const cancel = await flexcore(['cancel', generation.runId, '-n', ns]);
    expect(cancel.code, cancel.stderr).to.equal(0);
    expect(cancel.stdout).to.equal(`run ${generation.runId}: Cancelled\n`);
    const again = await flexcore(['cancel', generation.runId, '-n', ns]);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.equal(
      `flexcore cancel: run "${generation.runId}" already finished (Cancelled)\n`,
    );

    const started = await flexcore(['run', 'long', '-n', ns]);
    expect(started.code, started.stderr).to.equal(0);
    const runId = /^run (\S+) started\n$/.exec(started.stdout)?.[1];
    expect(runId, started.stdout).to.be.a('string');
    expect((await runsOf('long'))[0]).to.deep.include({ runId, trigger: 'Manual', phase: 'Running' });
    const stopped = await json<{ runId: string; phase: string }>(['cancel', runId!, '-n', ns]);
    expect(stopped).to.deep.include({ runId, phase: 'Cancelled' });

    const badStep = await flexcore(['run', 'long', '-n', ns, '--full-refresh', 'nope']);
    expect(badStep.code).to.equal(1);
    expect(badStep.stderr).to.include('no step nope in the pipeline');
  });

  it("sets and clears the Singer state a tap step's next run receives; each change is an event", async () => {
    await plane.kubectl(
      ['-n', ns, 'apply', '-f', '-'],
      [
        plugin('tap-orders', { type: 'tap', command: ['tap-orders'], capabilities: ['state'] }),
        plugin('target-lake', { type: 'target', command: ['target-lake'] }),
        pipeline('stateful', {
          steps: [
            {
              name: 'orders',
              plugin: 'tap-orders',
              target: { plugin: 'target-lake' },
              podMetadata: fake(0, '1h'),
            },
          ],
        }),
      ]
        .map((d) => stringify(d))
        .join('---\n'),
    );
    const stateId = `${ns}/stateful/orders`;
    const running = await eventually(async () => {
      const r = (await runsOf('stateful'))[0];
      return r?.phase === 'Running' && r;
    });
    const file = join(home, 'state.json');
    const bookmark = { bookmarks: { orders: { replication_key: 'id', replication_key_value: 7 } } };
    await writeFile(file, JSON.stringify(bookmark));
    // The running run's tap read the old state and its target would overwrite a change.
    const busy = await flexcore(['state', 'set', 'stateful', 'orders', file, '-n', ns]);
    expect(busy.code).to.equal(1);
    expect(busy.stderr).to.include(
      `run "${running.runId}" of FlexPipeline "stateful" uses state "${stateId}"`,
    );
    expect((await flexcore(['cancel', running.runId, '-n', ns])).code).to.equal(0);

    const empty = await flexcore(['state', 'get', 'stateful', '-n', ns]);
    expect(empty.code, empty.stderr).to.equal(0);
    expect(empty.stdout.split('\n')[1]!.split(/\s{3,}/)).to.deep.equal(['orders', stateId, '-', '-']);
    const set = await flexcore(['state', 'set', 'stateful', 'orders', file, '-n', ns]);
    expect(set.code, set.stderr).to.equal(0);
    expect(set.stdout).to.equal(`state ${stateId} set; the next run of stateful/orders starts from it\n`);
    const got = await flexcore(['state', 'get', 'stateful', 'orders', '-n', ns]);
    expect(JSON.parse(got.stdout)).to.deep.equal(bookmark);
    const user = `system:serviceaccount:${ns}:cli-user`;
    const listed = await json<{ items: Record<string, unknown>[] }>(['state', 'get', 'stateful', '-n', ns]);
    expect(listed.items[0]).to.deep.include({
      stateId,
      changedBy: user,
      resumeFrom: 'state',
      state: bookmark,
    });

    /** Starts a manual run; the files of its tap's config Secret while it runs; then cancels it. */
    const nextRunFiles = async (): Promise<Record<string, string>> => {
      const started = await json<{ runId: string }>(['run', 'stateful', '-n', ns]);
      const pod = await eventually(async () => {
        const p = JSON.parse(
          await plane.kubectl(['-n', ns, 'get', 'flexpipeline', 'stateful', '-o', 'json']),
        ) as {
          status?: { currentRun?: { id: string; steps?: { pod?: string }[] } };
        };
        return p.status?.currentRun?.id === started.runId && p.status.currentRun.steps?.[0]?.pod;
      });
      const secret = JSON.parse(await plane.kubectl(['-n', ns, 'get', 'secret', pod, '-o', 'json'])) as {
        data: Record<string, string>;
      };
      expect((await flexcore(['cancel', started.runId, '-n', ns])).code).to.equal(0);
      return Object.fromEntries(
        Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
      );
    };
    expect(JSON.parse((await nextRunFiles())['state.json']!)).to.deep.equal(bookmark);

    const cleared = await flexcore(['state', 'clear', 'stateful', 'orders', '-n', ns]);
    expect(cleared.code, cleared.stderr).to.equal(0);
    expect(cleared.stdout).to.equal(
      `state ${stateId} cleared; the next run of stateful/orders starts from nothing\n`,
    );
    expect(await nextRunFiles()).to.not.have.property('state.json');
    expect(
      JSON.parse((await flexcore(['state', 'get', 'stateful', 'orders', '-n', ns])).stdout),
    ).to.deep.equal({});

    const { rows } = await db.pool.query<{ type: string; data: Record<string, unknown> }>(
      'SELECT type, data FROM flexcore.events WHERE stream_id = $1 ORDER BY position',
      [`singer-state-${stateId}`],
    );
    expect(rows.map((r) => r.type)).to.deep.equal(['SingerStateSet', 'SingerStateCleared']);
    expect(rows[0]!.data).to.deep.include({ stateId, state: bookmark, requestedBy: user });
    expect(rows[1]!.data).to.deep.include({ stateId, requestedBy: user });

    const notObject = await runFlexcore(['state', 'set', 'stateful', 'orders', '-', '-n', ns], {
      env: userEnv(),
      stdin: '[1, 2]',
    });
    expect(notObject.code).to.equal(2);
    expect(notObject.stderr).to.include('standard input: a Singer state is a JSON object');
    const noStep = await flexcore(['state', 'clear', 'stateful', 'nope', '-n', ns]);
    expect(noStep.code).to.equal(1);
    expect(noStep.stderr).to.equal('flexcore state: no step "nope" in FlexPipeline "stateful"\n');
    const notSinger = await flexcore(['state', 'clear', 'long', 'wait', '-n', ns]);
    expect(notSinger.stderr).to.include('step "wait" has no Singer target');
    const badAction = await flexcore(['state', 'drop', 'stateful', 'orders', '-n', ns]);
    expect(badAction.code).to.equal(2);
    const res = await fetch(`${server}/api/v1/namespaces/${ns}/pipelines/stateful/singer-state/orders`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ state: ['not', 'an', 'object'] }),
    });
    expect(res.status).to.equal(400);
    const problem = (await res.json()) as { invalidParams: { in: string; name: string }[] };
    expect(problem.invalidParams[0]).to.deep.include({ in: 'body', name: 'state' });
  });

  it('watches events live, and resumes after the server went away without losing or repeating one', async () => {
    const watch = startWatch(['-n', ns, '-o', 'json', '--type', 'RunStarted,RunFinished'], userEnv());
    try {
      const printed = (check: () => boolean) => (): Promise<boolean> => Promise.resolve(check());
      await eventually(
        printed(() => watch.stderr().includes('watching namespace')),
        30_000,
        'the watch to connect',
      );
      const started = await flexcore(['run', 'real', '-n', ns]);
      expect(started.code, started.stderr).to.equal(0);
      const runId = /^run (\S+) started/.exec(started.stdout)?.[1];
      const events = (): FeedLine[] => watch.lines.map((l) => JSON.parse(l) as FeedLine);
      await eventually(
        printed(() => events().some((e) => e.type === 'RunFinished' && e.data.runId === runId)),
        60_000,
        'the new run to finish in the watch',
      );

      // The replica stops (the stream ends); runs recorded meanwhile and after must come once each.
      const more = (name: string): SeedRun => ({
        runId: name,
        namespace: ns,
        pipeline: 'history',
        trigger: 'Manual',
        startedAt: new Date(),
        finished: { phase: 'Succeeded', at: new Date() },
      });
      await seedRuns(db.store, [more('w1-watch')]);
      await eventually(
        printed(() => events().some((e) => e.data.runId === 'w1-watch' && e.type === 'RunFinished')),
      );
      await replica.stop();
      await seedRuns(db.store, [more('w2-watch')]);
      replica = startReplica('cli-1', replicaEnv);
      await replica.port();
      await seedRuns(db.store, [more('w3-watch')]);
      await eventually(
        printed(() => events().some((e) => e.data.runId === 'w3-watch' && e.type === 'RunFinished')),
        60_000,
        'the watch to resume',
      );
      const ours = events().filter((e) => /^w\d-watch$/.test(e.data.runId ?? ''));
      expect(ours.map((e) => `${e.data.runId} ${e.type}`)).to.deep.equal([
        'w1-watch RunStarted',
        'w1-watch RunFinished',
        'w2-watch RunStarted',
        'w2-watch RunFinished',
        'w3-watch RunStarted',
        'w3-watch RunFinished',
      ]);
      const cursors = events().map((e) => e.cursor);
      expect(new Set(cursors).size, 'no event twice').to.equal(cursors.length);
      expect(watch.stderr()).to.match(/flexcore watch: .*; reconnecting in \d+ s/);
    } finally {
      expect(await watch.interrupt(), watch.stderr()).to.equal(0);
    }
  });
});
