/**
 * Two controller processes, one bucket: one leads and reconciles, the other waits hot. A killed
 * leader is replaced within a lease duration and a retry period; a stopped one hands over at
 * once; runs in flight finish exactly once either way. With and without Redis.
 */
import { expect } from 'chai';
import { startRedis, type RedisServer } from '../../hack/services/redis.js';
import { expectExactlyOnce } from './support/exactly-once.js';
import {
  FAST_MS,
  allSucceeded,
  expectTokensNeverDecrease,
  haWorld,
  leaseHolders,
  waitForLeader,
  type HaWorld,
} from './support/ha.js';
import { acquisitions, tail } from './support/replicas.js';
import { eventually } from './support/engine.js';

const SCOPE = 'flexcore-engine-0-of-1';
const PIPELINES = 12;

for (const withRedis of [false, true]) {
  describe(`high availability: failover of one leader (${withRedis ? 'with Redis' : 'Leases alone'})`, function () {
    this.timeout(300_000);
    let world: HaWorld;
    let redis: RedisServer | undefined;

    beforeEach(async () => {
      redis = withRedis ? await startRedis() : undefined;
      world = await haWorld(withRedis ? 'ha-redis' : 'ha', redis ? { REDIS_URL: redis.url } : {});
    });
    afterEach(async () => {
      await world?.close();
      await redis?.stop();
    });

    it('lets exactly one replica reconcile; kill -9 of the leader → the standby leads within lease + retry and runs finish', async () => {
      const a = world.start('replica-a');
      await waitForLeader([a], SCOPE);
      const b = world.start('replica-b');
      await b.port();
      await world.pipelines(PIPELINES, '3s');
      // Both are live; only the leader reconciles.
      await new Promise((r) => setTimeout(r, 3000));
      expect(await a.metric('controller_runtime_reconcile_total'), 'leader reconciles').to.be.greaterThan(0);
      expect(await b.metric('controller_runtime_reconcile_total'), 'standby reconciles').to.equal(0);
      expect((await b.readyz()).ready, 'a standby is ready (it serves the API)').to.equal(true);

      const killedAt = Date.now();
      a.signal('SIGKILL');
      await a.exited;
      await waitForLeader([b], SCOPE, 30_000);
      const took = Date.now() - killedAt;
      expect(took, 'take-over after kill -9 (ms)').to.be.at.most(FAST_MS.lease + FAST_MS.retry + 1000);
      expect((await leaseHolders(world.plane, world.ns)).get(SCOPE)).to.equal('replica-b');

      await allSucceeded(world.plane, world.ns);
      await expectExactlyOnce(world, PIPELINES);
      await expectTokensNeverDecrease(world.db);
      const tokens = [...acquisitions(a), ...acquisitions(b)].map((x) => x.token);
      expect(tokens, 'a new token per leader').to.deep.equal([...tokens].sort((x, y) => x - y));
      expect(new Set(tokens).size).to.equal(tokens.length);
    });

    it('hands over in well under 2 s on SIGTERM (the Lease is released)', async () => {
      const a = world.start('replica-a');
      await waitForLeader([a], SCOPE);
      const b = world.start('replica-b');
      await b.port();
      await world.pipelines(4, '1s');
      await new Promise((r) => setTimeout(r, 1500));
      const stoppedAt = Date.now();
      a.signal('SIGTERM');
      await waitForLeader([b], SCOPE, 10_000);
      const took = Date.now() - stoppedAt;
      expect(took, `graceful hand-off (ms); a: ${tail(a.lines)}`).to.be.below(2000);
      expect(await a.exited, 'a exits cleanly').to.equal(0);
      expect(
        a.lines.some((l) => l.message === 'released leadership'),
        'a logged its release',
      ).to.equal(true);
      await allSucceeded(world.plane, world.ns);
      await expectExactlyOnce(world, 4);
    });
  });
}

describe('high availability: freshness gauges across a failover', function () {
  this.timeout(300_000);
  let world: HaWorld;
  beforeEach(async () => {
    world = await haWorld('ha-fresh');
  });
  afterEach(async () => world?.close());

  it('only the leader reports a pipeline, and the new leader reports the same last success', async () => {
    const a = world.start('replica-a');
    await waitForLeader([a], SCOPE);
    const b = world.start('replica-b');
    await b.port();
    const [name] = await world.pipelines(1, '1s');
    await allSucceeded(world.plane, world.ns);
    const labels = { namespace: world.ns, pipeline: name! };
    const gauge = 'flexcore_pipeline_last_success_timestamp_seconds';
    const before = await eventually(
      async () => (await a.metric(gauge, labels)) || false,
      10_000,
      'a reports',
    );
    expect(before * 1000, 'a recent success').to.be.closeTo(Date.now(), 60_000);
    expect(await b.metric(gauge, labels), 'a standby reports nothing').to.equal(0);

    a.signal('SIGTERM');
    await waitForLeader([b], SCOPE, 10_000);
    const after = await eventually(async () => (await b.metric(gauge, labels)) || false, 10_000, 'b reports');
    expect(after, 'the same value, not a reset').to.equal(before);
  });
});
