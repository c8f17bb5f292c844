/**
 * Redis is never the lock: killed mid-run, the replicas go on with Leases alone and say so
 * (log once, flexcore_redis_up, readiness details); leadership still changes hands safely while
 * it is away; when it returns they pick it up again and republish the holders. Never two
 * holders of one scope, tokens rising across every transition.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { startRedis, type RedisServer } from '../../hack/services/redis.js';
import { eventually } from './support/engine.js';
import { expectExactlyOnce } from './support/exactly-once.js';
import {
  allSucceeded,
  expectNoOverlappingTerms,
  expectTokensNeverDecrease,
  haWorld,
  leaseHolders,
  type HaWorld,
} from './support/ha.js';
import type { Replica } from './support/replicas.js';

const PIPELINES = 24;

async function redisState(r: Replica): Promise<unknown> {
  return (await r.readyz()).details?.leadership?.redis;
}

describe('high availability: Redis killed mid-run and restarted', function () {
  this.timeout(300_000);
  let world: HaWorld;
  let redis: RedisServer;
  afterEach(async () => {
    await world?.close();
    await redis?.stop();
  });

  it('keeps one holder per scope on Leases alone, shows the degraded mode, and resumes Redis', async () => {
    redis = await startRedis();
    world = await haWorld('ha-redis-outage', { REDIS_URL: redis.url, FLEXCORE_BUCKETS: '2' });
    const a = world.start('replica-a');
    const b = world.start('replica-b');
    await Promise.all([a.port(), b.port()]);
    for (const r of [a, b]) await eventually(async () => (await redisState(r)) === 'up', 20_000, 'Redis up');
    await world.pipelines(PIPELINES / 2, '2s', 'early');

    await redis.pause();
    for (const r of [a, b]) {
      await eventually(async () => (await redisState(r)) === 'degraded', 20_000, `${r.name} degraded`);
      expect(await r.metric('flexcore_redis_up'), `${r.name} flexcore_redis_up`).to.equal(0);
      expect((await r.readyz()).ready, 'still ready without Redis').to.equal(true);
    }
    // A hand-over while Redis is away: the Lease watch alone carries it.
    await a.stop();
    const c = world.start('replica-c');
    await c.port();
    await world.pipelines(PIPELINES / 2, '2s', 'late');
    await eventually(
      async () => new Set((await leaseHolders(world.plane, world.ns)).values()).size === 2,
      20_000,
      'both buckets held by b and c',
    );

    await redis.resume();
    for (const r of [b, c]) {
      await eventually(async () => (await redisState(r)) === 'up', 30_000, `${r.name} back on Redis`);
      expect(await r.metric('flexcore_redis_up')).to.equal(1);
    }
    // Holders are published again from the replicas, though Redis came back empty.
    const client = new Redis(redis.url);
    try {
      const published = await eventually(
        async () => {
          const all = await client.hgetall(`flexcore:${world.ns}:holders`);
          return Object.keys(all).length === 2 && all;
        },
        10_000,
        'holders published',
      );
      const leases = await leaseHolders(world.plane, world.ns);
      for (const [scope, text] of Object.entries(published))
        expect((JSON.parse(text) as { identity: string }).identity, scope).to.equal(leases.get(scope));
    } finally {
      client.disconnect();
    }
    b.signal('SIGKILL');

    await allSucceeded(world.plane, world.ns, 180_000);
    await expectExactlyOnce(world, PIPELINES);
    await expectTokensNeverDecrease(world.db);
    expectNoOverlappingTerms(world.replicas);
    for (const r of [a, b]) {
      const said = r.lines.filter((l) => /Redis is unreachable/.test(l.message)).length;
      expect(said, `${r.name} says once that Redis is away`).to.equal(1);
    }
  });
});
