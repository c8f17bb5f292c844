/**
 * Active/active: three replicas share four buckets (each its own Lease and fence). Every
 * replica holds one or two; pipelines hashed over the buckets all run exactly once; a replica
 * killed with -9 hands its buckets to the others (after its Leases expire) and its runs finish.
 */
import { expect } from 'chai';
import { eventually } from './support/engine.js';
import { expectExactlyOnce } from './support/exactly-once.js';
import {
  FAST_MS,
  allSucceeded,
  expectNoOverlappingTerms,
  expectTokensNeverDecrease,
  haWorld,
  leaseHolders,
  phases,
  type HaWorld,
} from './support/ha.js';
import type { Replica } from './support/replicas.js';

const BUCKETS = 4;
const PIPELINES = 60;

/** How many buckets each identity holds, once every bucket is held and the split is fair. */
async function balanced(world: HaWorld, live: readonly Replica[]): Promise<Map<string, number>> {
  return eventually(
    async () => {
      const holders = await leaseHolders(world.plane, world.ns);
      const counts = new Map(live.map((r) => [r.name, 0]));
      for (const h of holders.values()) counts.set(h, (counts.get(h) ?? 0) + 1);
      const max = Math.ceil(BUCKETS / live.length);
      const fair =
        holders.size === BUCKETS &&
        [...counts].every(([name, n]) => live.some((r) => r.name === name) && n >= 1 && n <= max);
      return fair && counts;
    },
    30_000,
    `a fair split of ${BUCKETS} buckets over ${live.map((r) => r.name).join(', ')}`,
  );
}

describe('high availability: 3 replicas share 4 buckets', function () {
  this.timeout(300_000);
  let world: HaWorld;
  afterEach(async () => world?.close());

  it('gives every replica 1–2 buckets, runs 60 pipelines exactly once, and moves a killed replica’s buckets', async () => {
    world = await haWorld('ha-buckets', { FLEXCORE_BUCKETS: String(BUCKETS) });
    const replicas = ['r1', 'r2', 'r3'].map((n) => world.start(n));
    await Promise.all(replicas.map((r) => r.port()));
    const split = await balanced(world, replicas);
    console.log(`      (buckets held: ${[...split].map(([n, c]) => `${n}=${c}`).join(' ')})`);
    // Each replica's own view agrees with the Leases.
    for (const r of replicas) {
      const held = await r.metric('leader_election_master_status');
      expect(held, `${r.name} leads as many scopes as the Leases say`).to.equal(split.get(r.name));
    }

    await world.pipelines(PIPELINES, '2s');
    await eventually(
      async () =>
        [...(await phases(world.plane, world.ns)).values()].filter((p) => p === 'Running').length >= 20,
      60_000,
      'runs in flight',
    );
    // Every replica is working on its own share of the pipelines.
    for (const r of replicas)
      expect(
        await r.metric('controller_runtime_reconcile_total', { controller: 'flexpipeline' }),
        r.name,
      ).to.be.greaterThan(0);

    const victim = replicas.find((r) => split.get(r.name) === 2) ?? replicas[0]!;
    const survivors = replicas.filter((r) => r !== victim);
    const killedAt = Date.now();
    victim.signal('SIGKILL');
    await victim.exited;
    await balanced(world, survivors);
    const moved = Date.now() - killedAt;
    console.log(`      (buckets of the killed replica moved in ${moved} ms)`);
    expect(moved).to.be.at.most(FAST_MS.lease + 4 * FAST_MS.retry + 2000);

    await allSucceeded(world.plane, world.ns, 180_000);
    await expectExactlyOnce(world, PIPELINES);
    await expectTokensNeverDecrease(world.db);
    expectNoOverlappingTerms(replicas);
    const { rows } = await world.db.pool.query<{ fence: string }>(
      'SELECT DISTINCT fence FROM flexcore.events',
    );
    expect(rows.map((r) => r.fence).sort(), 'pipelines spread over every bucket').to.deep.equal(
      Array.from({ length: BUCKETS }, (_, i) => `flexcore-engine-${i}-of-${BUCKETS}`),
    );
  });
});
