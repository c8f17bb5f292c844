/**
 * Split brain: the leader is frozen (SIGSTOP) past its lease, the standby takes over and makes
 * progress, then the old leader wakes up still believing it leads. It is frozen in the middle of
 * a reconcile, right before an append (a failpoint SIGSTOPs the process there, like a GC pause
 * or a frozen VM would), so when it wakes up it carries on with that append under its old token.
 * Everything it tries to append is refused by the fence in PostgreSQL, it steps down, and every
 * run ends exactly once.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { expectExactlyOnce } from './support/exactly-once.js';
import {
  FAST_MS,
  allSucceeded,
  expectTokensNeverDecrease,
  haWorld,
  waitForLeader,
  type HaWorld,
} from './support/ha.js';
import { eventually } from './support/engine.js';
import { acquisitions, tail } from './support/replicas.js';

const SCOPE = 'flexcore-engine-0-of-1';

/** Whether the process is stopped (state T in /proc/<pid>/stat). */
function stopped(pid: number): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).startsWith('T');
}
const PIPELINES = 16;

describe('high availability: split brain (SIGSTOP past the lease)', function () {
  this.timeout(300_000);
  let world: HaWorld;
  afterEach(async function () {
    // On failure, what each replica said last is the first thing to read.
    if (this.currentTest?.state === 'failed')
      for (const r of world?.replicas ?? [])
        console.log(`--- ${r.name} (alive: ${r.alive()})\n${tail(r.lines, 25)}`);
    await world?.close();
  });

  it('refuses every append of the woken leader, which steps down; no duplicate Pod, exact event streams', async () => {
    world = await haWorld('ha-split');
    // The 40th append: runs are started and steps are running by then.
    const a = world.start('replica-a', { FLEXCORE_FAILPOINTS: 'before-append=40:stop' });
    await waitForLeader([a], SCOPE);
    const b = world.start('replica-b');
    await b.port();
    await world.pipelines(PIPELINES, '2s');
    await eventually(
      () => Promise.resolve(stopped(a.child.pid!)),
      60_000,
      'the leader to freeze before an append',
    );
    const newLeader = await waitForLeader([b], SCOPE, FAST_MS.lease + 10_000);
    expect(newLeader.name).to.equal('replica-b');
    const tokenA = acquisitions(a).at(-1)!.token;
    const tokenB = acquisitions(b).at(-1)!.token;
    expect(tokenB, 'the new leader raised the fence').to.be.greaterThan(tokenA);
    // Let the new leader make progress (Pods finish meanwhile), then wake the old one.
    await eventually(
      async () => (await b.metric('flexcore_event_store_events_appended_total')) > PIPELINES,
      30_000,
      'the new leader to make progress',
    );
    a.signal('SIGCONT');
    await eventually(
      () => Promise.resolve(a.lines.some((l) => l.message === 'lost leadership')),
      15_000,
      `the old leader to step down: ${tail(a.lines)}`,
    );
    expect(a.alive(), `the old leader lives on: ${tail(a.lines, 20)}`).to.equal(true);
    expect(await a.metric('leader_election_master_status', { name: SCOPE })).to.equal(0);
    await allSucceeded(world.plane, world.ns);

    const rejected = await a.metric('flexcore_event_store_fencing_rejections_total');
    const { rows } = await world.db.pool.query<{ accepted: string }>(
      `SELECT count(*) AS accepted FROM flexcore.events
        WHERE fencing_token = $1
          AND position > (SELECT min(position) FROM flexcore.events WHERE fencing_token = $2)`,
      [tokenA, tokenB],
    );
    console.log(
      `      (fenced appends refused: ${rejected}; accepted after the take-over: ${rows[0]!.accepted})`,
    );
    expect(rejected, 'appends of the woken leader refused by the fence').to.be.greaterThan(0);
    expect(Number(rows[0]!.accepted), 'appends accepted from the fenced leader').to.equal(0);
    await expectExactlyOnce(world, PIPELINES);
    await expectTokensNeverDecrease(world.db);
    // It stays a standby: the lease is B's and A reconciles nothing more.
    expect(a.alive(), 'the old leader lives on as a standby').to.equal(true);
  });
});
