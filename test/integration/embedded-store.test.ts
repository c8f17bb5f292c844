import { existsSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import {
  EmbeddedPostgres,
  EmbeddedPostgresError,
  defaultStateDir,
  startEmbeddedStore,
} from '../../controller/store/embedded-postgres.js';
import { StoreError } from '../../controller/store/errors.js';
import { query, rejection } from './support/async.js';

describe('controller/store embedded PostgreSQL', function () {
  this.timeout(60_000);

  let tmp: string;
  let cleanups: Array<() => Promise<void>>;

  beforeEach(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'flexcore-store-'));
    // As root the server runs as 'postgres', which must be able to enter the test directory.
    await chmod(tmp, 0o755);
    cleanups = [];
  });

  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    await rm(tmp, { recursive: true, force: true });
  });

  it('leaves the exit code of a process that used it alone, and exits cleanly', async () => {
    // embedded-postgres's exit hooks once turned every exit code into 0, then crashed the exit.
    const script = join(tmp, 'exit-code.mts');
    const store = new URL('../../controller/store/embedded-postgres.ts', import.meta.url).href;
    await writeFile(
      script,
      `import { startEmbeddedStore } from ${JSON.stringify(store)};
const s = await startEmbeddedStore({ baseDir: ${JSON.stringify(join(tmp, 'pg'))} });
await s.stop();
process.exitCode = 3;
`,
    );
    const result = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
    expect(result.stderr).to.not.contain('is not a function');
    expect(result.status, result.stderr).to.equal(3);
  });

  it('keeps data and credentials across stop and a second start in the same directory', async () => {
    const env = { XDG_STATE_HOME: join(tmp, 'state'), HOME: join(tmp, 'home') };
    const first = await startEmbeddedStore({ env });
    cleanups.push(() => first.stop());
    expect(first.baseDir).to.equal(join(tmp, 'state', 'flexcore', 'postgres'));
    expect(first.url).to.match(/^postgres:\/\/postgres:[0-9a-f]{32}@127\.0\.0\.1:\d+\/postgres$/);
    expect(existsSync(join(first.baseDir, 'data', 'PG_VERSION'))).to.equal(true);
    expect(statSync(join(first.baseDir, 'password')).mode & 0o777).to.equal(0o600);
    expect(await query(first.url, 'SHOW fsync')).to.deep.equal([{ fsync: 'on' }]);
    await query(first.url, 'CREATE TABLE kept (id int PRIMARY KEY, name text NOT NULL)');
    await query(first.url, 'INSERT INTO kept VALUES (1, $1), (2, $2)', ['alpha', 'beta']);
    await first.stop();
    expect(existsSync(join(first.baseDir, 'data', 'PG_VERSION'))).to.equal(true); // stop keeps the data

    const second = await startEmbeddedStore({ env });
    cleanups.push(() => second.stop());
    expect(second.baseDir).to.equal(first.baseDir);
    // The first URL's credentials still work; only the (free) port may have changed.
    const again = new URL(first.url);
    again.port = new URL(second.url).port;
    expect(again.toString()).to.equal(second.url);
    const rows = await query<{ name: string }>(again.toString(), 'SELECT name FROM kept ORDER BY id');
    expect(rows.map((r) => r.name)).to.deep.equal(['alpha', 'beta']);
  });

  it('reuses the cluster without initdb, and pause()/resume() keep the port', async () => {
    const baseDir = join(tmp, 'pg');
    const fresh = await EmbeddedPostgres.start({ baseDir, durable: false });
    cleanups.push(() => fresh.stop());
    expect(fresh.created).to.equal(true);
    await fresh.stop();

    const reused = await EmbeddedPostgres.start({ baseDir, durable: false });
    cleanups.push(() => reused.stop());
    expect(reused.created).to.equal(false);
    expect(new URL(reused.url).password).to.equal(new URL(fresh.url).password);
    const port = reused.port;
    await reused.pause();
    expect(reused.running).to.equal(false);
    await reused.resume();
    expect(reused.running).to.equal(true);
    expect(reused.port).to.equal(port);
    expect(await query(reused.url, 'SELECT 1 AS one')).to.deep.equal([{ one: 1 }]);
    await reused.stop();
    const err = await rejection(reused.resume());
    expect(err).to.be.instanceOf(EmbeddedPostgresError);
    expect((err as EmbeddedPostgresError).reason).to.equal('stopped');
  });

  it('refuses, quickly and clearly, to start while another server runs on the data directory', async () => {
    const baseDir = join(tmp, 'pg');
    const running = await EmbeddedPostgres.start({ baseDir, durable: false });
    cleanups.push(() => running.stop());

    const started = Date.now();
    const err = await rejection(startEmbeddedStore({ baseDir }));
    expect(Date.now() - started).to.be.below(15_000);
    expect(err).to.be.instanceOf(EmbeddedPostgresError);
    expect(err).to.be.instanceOf(StoreError);
    expect(err.name).to.equal('EmbeddedPostgresError');
    expect((err as EmbeddedPostgresError).reason).to.equal('in-use');
    expect(err.message).to.match(/another PostgreSQL server \(PID \d+\) already runs on data directory/);
    expect(err.message).to.contain(running.dataDir);

    // The refused start left the running server and its data alone.
    expect(await query(running.url, 'SELECT 1 AS one')).to.deep.equal([{ one: 1 }]);
    await running.stop();
    const after = await startEmbeddedStore({ baseDir });
    cleanups.push(() => after.stop());
    expect(new URL(after.url).password).to.equal(new URL(running.url).password);
  });

  it('fails clearly when a kept cluster lost its password file', async () => {
    const baseDir = join(tmp, 'pg');
    const server = await EmbeddedPostgres.start({ baseDir, durable: false });
    cleanups.push(() => server.stop());
    await server.stop();
    await rm(join(baseDir, 'password'));
    const err = await rejection(startEmbeddedStore({ baseDir }));
    expect(err).to.be.instanceOf(EmbeddedPostgresError);
    expect((err as EmbeddedPostgresError).reason).to.equal('prerequisite');
    expect(err.message).to.contain('password file');
    expect(err.message).to.contain(baseDir);
  });

  describe('defaultStateDir', () => {
    const cases: Array<{ env: NodeJS.ProcessEnv; want: string; why: string }> = [
      {
        env: { XDG_STATE_HOME: '/srv/state', HOME: '/home/u' },
        want: '/srv/state/flexcore/postgres',
        why: 'XDG_STATE_HOME',
      },
      { env: { HOME: '/home/u' }, want: '/home/u/.local/state/flexcore/postgres', why: 'unset: HOME' },
      {
        env: { XDG_STATE_HOME: '', HOME: '/home/u' },
        want: '/home/u/.local/state/flexcore/postgres',
        why: 'empty',
      },
      {
        env: { XDG_STATE_HOME: 'relative/state', HOME: '/home/u' },
        want: '/home/u/.local/state/flexcore/postgres',
        why: 'relative (ignored, as the XDG spec asks)',
      },
      {
        env: {},
        want: join(homedir(), '.local', 'state', 'flexcore', 'postgres'),
        why: 'no HOME: the home dir',
      },
      {
        env: { FLEXCORE_STATE_DIR: '/var/lib/flexcore', XDG_STATE_HOME: '/srv/state', HOME: '/home/u' },
        want: '/var/lib/flexcore/postgres',
        why: 'FLEXCORE_STATE_DIR (the evaluation image: its volume) before XDG_STATE_HOME',
      },
      {
        env: { FLEXCORE_STATE_DIR: 'relative', HOME: '/home/u' },
        want: '/home/u/.local/state/flexcore/postgres',
        why: 'FLEXCORE_STATE_DIR relative (ignored)',
      },
    ];
    for (const { env, want, why } of cases) {
      it(`${why} → ${want}`, () => {
        expect(defaultStateDir(env, 1000)).to.equal(want);
      });
    }
    it('root without XDG_STATE_HOME → /var/lib/flexcore/postgres (user postgres cannot enter /root)', () => {
      expect(defaultStateDir({ HOME: '/root' }, 0)).to.equal('/var/lib/flexcore/postgres');
      expect(defaultStateDir({ HOME: '/root', XDG_STATE_HOME: '/srv/state' }, 0)).to.equal(
        '/srv/state/flexcore/postgres',
      );
    });
  });
});
