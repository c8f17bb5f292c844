/**
 * Chaos: three replicas sharing two buckets with Redis, pipelines arriving in waves, and at
 * least ten leadership changes forced by random kill -9, SIGSTOP past the lease, SIGTERM and
 * Redis restarts (a Deployment replaces every replica that goes). Afterwards: no run lost, no
 * event recorded twice, no step with a second Pod, every run Succeeded, tokens never going
 * down in commit order. The seed is printed; CHAOS_SEED replays a sequence.
 */
import { expect } from 'chai';
import { startRedis, type RedisServer } from '../../hack/services/redis.js';
import { expectExactlyOnce } from './support/exactly-once.js';
import { FAST_MS, allSucceeded, expectTokensNeverDecrease, haWorld, type HaWorld } from './support/ha.js';
import { acquisitions, type Replica } from './support/replicas.js';

const WAVES = 6;
const PER_WAVE = 9;
const MIN_CHANGES = 10;

/** mulberry32: a small seeded generator, so a failing sequence can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('high availability: chaos', function () {
  this.timeout(600_000);
  let world: HaWorld;
  let redis: RedisServer;
  afterEach(async () => {
    await world?.close();
    await redis?.stop();
  });

  it(`loses no run and duplicates nothing through ≥ ${MIN_CHANGES} forced leadership changes`, async () => {
    const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 1_000_000);
    const random = seeded(seed);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
    redis = await startRedis();
    world = await haWorld('ha-chaos', { REDIS_URL: redis.url, FLEXCORE_BUCKETS: '2' });
    let serial = 0;
    const live: Replica[] = [];
    const replace = (): Replica => {
      const r = world.start(`chaos-${++serial}`);
      live.push(r);
      return r;
    };
    for (let i = 0; i < 3; i++) replace();
    await Promise.all(live.map((r) => r.port()));
    await sleep(2 * FAST_MS.retry); // let the first split settle
    const acquired = (): number => world.replicas.reduce((n, r) => n + acquisitions(r).length, 0);
    const baseline = acquired();
    const changes = (): number => acquired() - baseline;
    const actions: string[] = [];

    for (let wave = 0; wave < WAVES || changes() < MIN_CHANGES; wave++) {
      if (wave < WAVES) await world.pipelines(PER_WAVE, '1s', `w${wave}-`);
      const action = pick(['kill -9', 'SIGSTOP', 'SIGTERM', 'redis restart']);
      // Leaders make the interesting victims: each hit forces a change of leadership.
      const leading = await Promise.all(
        live.map((r) => r.metric('leader_election_master_status').catch(() => 0)),
      );
      const leaders = live.filter((_, i) => leading[i]! > 0);
      const victim = pick(leaders.length > 0 ? leaders : live);
      actions.push(`${action}${action === 'redis restart' ? '' : ` ${victim.name}`}`);
      if (action === 'kill -9' || action === 'SIGTERM') {
        if (action === 'kill -9') victim.signal('SIGKILL');
        await victim.stop();
        live.splice(live.indexOf(victim), 1);
        replace();
      } else if (action === 'SIGSTOP') {
        victim.signal('SIGSTOP');
        await sleep(FAST_MS.lease + 1000);
        victim.signal('SIGCONT');
      } else {
        await redis.restart();
      }
      await sleep(1500 + random() * 1500);
      if (wave > 40)
        throw new Error(`only ${changes()} leadership changes after ${wave} rounds: ${actions.join(', ')}`);
    }
    console.log(`      (seed ${seed}; ${changes()} leadership changes; ${actions.join(', ')})`);
    expect(changes(), 'leadership changes forced by the chaos').to.be.at.least(MIN_CHANGES);

    await allSucceeded(world.plane, world.ns, 240_000);
    await expectExactlyOnce(world, WAVES * PER_WAVE);
    await expectTokensNeverDecrease(world.db);
  });
});
