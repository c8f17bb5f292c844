import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { PrerequisiteError } from '../../hack/plane/errors.js';
import {
  redisPing,
  startPostgres,
  startRedis,
  type PostgresServer,
  type RedisServer,
} from '../../hack/services/index.js';
import { query, rejection } from './support/async.js';

/** The environment without DATABASE_URL / REDIS_URL, so the harness starts its own servers. */
function localEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['DATABASE_URL'];
  delete env['REDIS_URL'];
  return env;
}

describe('hack/services', function () {
  this.timeout(60_000);

  describe('startPostgres (embedded)', () => {
    let server: PostgresServer;
    let dbUrl: string;

    before(async () => {
      server = await startPostgres({ env: localEnv() });
      dbUrl = await server.createDatabase('services_test');
    });

    after(async () => {
      await server?.stop();
    });

    it('serves a postgres:// URL on a loopback port', () => {
      expect(server.external).to.equal(false);
      expect(server.url).to.match(/^postgres:\/\/postgres:[0-9a-f]+@127\.0\.0\.1:\d+\/postgres$/);
      expect(dbUrl).to.equal(server.url.replace(/\/postgres$/, '/services_test'));
      expect(server.running).to.equal(true);
    });

    it('runs the server as a non-root user when we are root', () => {
      const owner = statSync(server.dataDir!).uid;
      if (userInfo().uid === 0) {
        expect(owner).to.equal(Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()));
      } else {
        expect(owner).to.equal(userInfo().uid);
      }
    });

    it('creates a table, inserts and reads rows', async () => {
      await query(dbUrl, 'CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL)');
      await query(dbUrl, 'INSERT INTO items (name) VALUES ($1), ($2)', ['alpha', 'beta']);
      const rows = await query<{ name: string }>(dbUrl, 'SELECT name FROM items ORDER BY id');
      expect(rows.map((r) => r.name)).to.deep.equal(['alpha', 'beta']);
    });

    it('keeps the data across restart() on the same port', async () => {
      const port = server.port;
      await server.restart();
      expect(server.port).to.equal(port);
      const rows = await query<{ name: string }>(dbUrl, 'SELECT name FROM items ORDER BY id');
      expect(rows.map((r) => r.name)).to.deep.equal(['alpha', 'beta']);
    });

    it('refuses connections while paused and serves the same data after resume()', async () => {
      await server.pause();
      expect(server.running).to.equal(false);
      const err = await rejection(query(dbUrl, 'SELECT 1'));
      expect(err.message).to.match(/ECONNREFUSED|connect/);
      await server.resume();
      const rows = await query<{ n: string }>(dbUrl, 'SELECT count(*) AS n FROM items');
      expect(rows[0]?.n).to.equal('2');
    });

    it('uses DATABASE_URL when set: creates and drops databases, cannot restart', async () => {
      const external = await startPostgres({ env: { DATABASE_URL: server.url } });
      expect(external.external).to.equal(true);
      expect(external.url).to.equal(server.url);
      const url = await external.createDatabase();
      const name = new URL(url).pathname.slice(1);
      expect(name).to.match(/^test_[0-9a-f]+$/);
      expect(await query(url, 'SELECT 1 AS one')).to.deep.equal([{ one: 1 }]);
      const restartErr = await rejection(external.restart());
      expect(restartErr).to.be.instanceOf(PrerequisiteError);
      expect(restartErr.message).to.contain('DATABASE_URL');
      await external.stop();
      const left = await query(server.url, 'SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      expect(left).to.have.length(0);
    });

    it('stop() stops the server and removes its temporary directory', async () => {
      const other = await startPostgres({ env: localEnv() });
      const dir = other.baseDir!;
      expect(existsSync(join(dir, 'data', 'PG_VERSION'))).to.equal(true);
      await other.stop();
      expect(existsSync(dir)).to.equal(false);
      const err = await rejection(query(other.url, 'SELECT 1'));
      expect(err.message).to.match(/ECONNREFUSED|connect/);
      await other.stop(); // idempotent
    });
  });

  describe('startRedis', () => {
    let server: RedisServer;
    let client: Redis;

    before(async () => {
      server = await startRedis({ env: localEnv() });
      client = new Redis(server.url, { maxRetriesPerRequest: 3 });
    });

    after(async () => {
      client?.disconnect();
      await server?.stop();
    });

    it('serves a redis:// URL on a loopback port without persistence', async () => {
      expect(server.external).to.equal(false);
      expect(server.url).to.equal(`redis://127.0.0.1:${server.port}`);
      expect(await client.config('GET', 'save')).to.deep.equal(['save', '']);
      expect(await client.config('GET', 'appendonly')).to.deep.equal(['appendonly', 'no']);
    });

    it('supports SET/GET and INCR', async () => {
      expect(await client.set('greeting', 'hello')).to.equal('OK');
      expect(await client.get('greeting')).to.equal('hello');
      expect(await client.incr('counter')).to.equal(1);
      expect(await client.incr('counter')).to.equal(2);
    });

    it('restart() brings the server back on the same port (empty, nothing persisted)', async () => {
      const port = server.port;
      await server.restart();
      expect(server.port).to.equal(port);
      expect(server.running).to.equal(true);
      expect(await client.get('greeting')).to.equal(null); // the client reconnected by itself
      expect(await client.incr('counter')).to.equal(1);
    });

    it('uses REDIS_URL when set and cannot restart it', async () => {
      const external = await startRedis({ env: { REDIS_URL: server.url } });
      expect(external.external).to.equal(true);
      expect(external.url).to.equal(server.url);
      const err = await rejection(external.restart());
      expect(err).to.be.instanceOf(PrerequisiteError);
      expect(err.message).to.contain('REDIS_URL');
      await external.stop();
      expect(await redisPing(server.url)).to.equal(true);
    });

    it('stop() stops the server and removes its temporary directory', async () => {
      const other = await startRedis({ env: localEnv() });
      expect(await redisPing(other.url)).to.equal(true);
      await other.stop();
      expect(existsSync(other.dir!)).to.equal(false);
      expect(await redisPing(other.url)).to.equal(false);
    });

    it('fails with PrerequisiteError naming the package when redis-server is not on PATH', async () => {
      const empty = await mkdtemp(join(tmpdir(), 'flexcore-nopath-'));
      try {
        const err = await rejection(startRedis({ env: { PATH: empty } }));
        expect(err).to.be.instanceOf(PrerequisiteError);
        expect(err.message).to.contain('redis-server was not found on PATH');
        expect(err.message).to.contain('sudo apt-get install -y redis-server');
        expect(err.message).to.contain('hack/install-debian.sh');
      } finally {
        await rm(empty, { recursive: true, force: true });
      }
    });
  });
});
