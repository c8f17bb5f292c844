import { expect } from 'chai';
import pg from 'pg';
import { FEED_START, type FeedCursor } from '../../controller/store/cursor.js';
import {
  DuplicateBatchError,
  StaleFencingTokenError,
  WrongExpectedVersionError,
} from '../../controller/store/errors.js';
import { deterministicEventId, type ExpectedVersion } from '../../controller/store/event-store.js';
import { migrate, migrations } from '../../controller/store/migrate.js';
import { ReadModels } from '../../controller/store/read-models.js';
import type { NewEvent, RecordedEvent } from '../../controller/store/recorded-event.js';
import { freshStore, type TestStore } from './support/store.js';

const FENCE = { fence: 'leader', token: 1 };
const ev = (stream: string, n: number, type = 'Noted'): NewEvent => ({
  id: deterministicEventId(stream, n),
  type,
  data: { n },
});

async function settle<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  return p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

describe('event store on real PostgreSQL', function () {
  this.timeout(60_000);
  let t: TestStore;

  beforeEach(async () => {
    t = await freshStore();
  });
  afterEach(async () => {
    await t.close();
  });

  describe('migrations', () => {
    it('are recorded once, and re-running or racing them applies nothing twice', async () => {
      const pools = [1, 2, 3].map(() => new pg.Pool({ connectionString: t.url, max: 2 }));
      try {
        const ran = await Promise.all(pools.map((p) => migrate(p)));
        expect(ran.flat()).to.deep.equal([]);
        const { rows } = await t.pool.query<{ id: number }>(
          'SELECT id FROM flexcore.schema_migrations ORDER BY id',
        );
        expect(rows.map((r) => r.id)).to.deep.equal(migrations().map((m) => m.id));
      } finally {
        await Promise.all(pools.map((p) => p.end()));
      }
    });
  });

  describe('append', () => {
    it('numbers a stream from 0 and returns the next expected version', async () => {
      const a = await t.store.append('s', 'no_stream', [ev('s', 0), ev('s', 1)], FENCE);
      expect(a.nextExpectedVersion).to.equal(1);
      expect(a.duplicate).to.equal(false);
      const b = await t.store.append('s', 1, [ev('s', 2)], FENCE);
      expect(b.nextExpectedVersion).to.equal(2);
      expect(b.positions[0]).to.be.greaterThan(a.positions[1]!);
      const events = await t.store.readStream('s');
      expect(events.map((e) => [e.streamVersion, e.data.n])).to.deep.equal([
        [0, 0],
        [1, 1],
        [2, 2],
      ]);
    });

    it('enforces each kind of expected version with a typed conflict', async () => {
      const conflict = async (expected: ExpectedVersion, n: number): Promise<unknown> =>
        (await settle(t.store.append('x', expected, [ev('x', n)], FENCE))).ok ? undefined : 'conflict';
      expect(await conflict('exists', 0)).to.equal('conflict');
      expect(await conflict(0, 0)).to.equal('conflict');
      expect(await conflict('no_stream', 0)).to.equal(undefined);
      expect(await conflict('no_stream', 1)).to.equal('conflict');
      expect(await conflict(5, 1)).to.equal('conflict');
      expect(await conflict('exists', 1)).to.equal(undefined);
      expect(await conflict('any', 2)).to.equal(undefined);
      const err = await settle(t.store.append('x', 0, [ev('x', 3)], FENCE));
      expect(!err.ok && err.error).to.be.instanceOf(WrongExpectedVersionError);
      expect(!err.ok && (err.error as WrongExpectedVersionError).actual).to.equal(2);
    });

    it('lets exactly one of many concurrent appenders win each version, with no gaps or duplicates', async () => {
      const writers = 8;
      const rounds = 12;
      let wins = 0;
      let conflicts = 0;
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let r = 0; r < rounds; r++) {
            const version = await t.store.streamVersion('race');
            const expected: ExpectedVersion = version < 0 ? 'no_stream' : version;
            const res = await settle(t.store.append('race', expected, [ev('race', w * 1000 + r)], FENCE));
            if (res.ok) wins++;
            else if (res.error instanceof WrongExpectedVersionError) conflicts++;
            else throw res.error;
          }
        }),
      );
      expect(wins + conflicts).to.equal(writers * rounds);
      expect(conflicts).to.be.greaterThan(0);
      const versions = (await t.store.readStream('race', 0, 10_000)).map((e) => e.streamVersion);
      expect(versions).to.deep.equal(Array.from({ length: wins }, (_, i) => i));
    });

    it('treats a retried batch with the same event ids as a no-op that reports the first positions', async () => {
      const batch = [ev('r', 0), ev('r', 1), ev('r', 2)];
      const first = await t.store.append('r', 'no_stream', batch, FENCE);
      const again = await t.store.append('r', 'no_stream', batch, FENCE);
      expect(again.duplicate).to.equal(true);
      expect(again.positions).to.deep.equal(first.positions);
      expect(again.nextExpectedVersion).to.equal(2);
      const concurrent = await Promise.all(
        [1, 2, 3, 4].map(() => settle(t.store.append('r', 'any', [ev('r', 3), ev('r', 4)], FENCE))),
      );
      expect(concurrent.every((c) => c.ok)).to.equal(true);
      expect(concurrent.filter((c) => c.ok && !c.value.duplicate)).to.have.length(1);
      expect((await t.store.readStream('r')).map((e) => e.streamVersion)).to.deep.equal([0, 1, 2, 3, 4]);
      const mixed = await settle(t.store.append('r', 'any', [ev('r', 4), ev('r', 5)], FENCE));
      expect(!mixed.ok && mixed.error).to.be.instanceOf(DuplicateBatchError);
      const newFirst = await settle(t.store.append('r', 'any', [ev('r', 6), ev('r', 4)], FENCE));
      expect(!newFirst.ok && newFirst.error).to.be.instanceOf(DuplicateBatchError);
      expect(await t.store.streamVersion('r')).to.equal(4);
    });

    it('refuses UPDATE, DELETE and TRUNCATE of events, even from the owning role', async () => {
      await t.store.append('a', 'no_stream', [ev('a', 0)], FENCE);
      for (const stmt of [
        `UPDATE flexcore.events SET type = 'Changed'`,
        'DELETE FROM flexcore.events',
        'TRUNCATE flexcore.events CASCADE',
      ]) {
        const res = await settle(t.pool.query(stmt));
        expect(res.ok, stmt).to.equal(false);
        expect(String((res as { error: Error }).error.message)).to.match(/append-only/);
      }
      expect(await t.store.readStream('a')).to.have.length(1);
    });
  });

  describe('fencing', () => {
    it('refuses a stale token, counts it, and never lowers the fence', async () => {
      await t.store.append('f', 'any', [ev('f', 0)], { fence: 'leader', token: 5 });
      await t.store.append('f', 'any', [ev('f', 1)], { fence: 'leader', token: 6 });
      const stale = await settle(t.store.append('f', 'any', [ev('f', 2)], { fence: 'leader', token: 5 }));
      expect(!stale.ok && stale.error).to.be.instanceOf(StaleFencingTokenError);
      expect(!stale.ok && (stale.error as StaleFencingTokenError).newest).to.equal(6);
      const other = await t.store.append('f', 'any', [ev('f', 3)], { fence: 'bucket-7', token: 1 });
      expect(other.duplicate).to.equal(false);
      const { rows } = await t.pool.query<{ token: string }>(
        `SELECT token FROM flexcore.fences WHERE fence = 'leader'`,
      );
      expect(rows[0]?.token).to.equal('6');
      const metrics = await t.registry.getSingleMetricAsString(
        'flexcore_event_store_fencing_rejections_total',
      );
      expect(metrics).to.match(/flexcore_event_store_fencing_rejections_total 1$/m);
    });

    it('under concurrency, no event of the old token is written after the new token raised the fence', async () => {
      const oldWriter = Array.from({ length: 60 }, (_, i) =>
        settle(t.store.append(`old-${i % 6}`, 'any', [ev(`old-${i % 6}`, i)], { fence: 'leader', token: 1 })),
      );
      await new Promise((r) => setTimeout(r, 5));
      const newWriter = Array.from({ length: 20 }, (_, i) =>
        settle(t.store.append(`new-${i % 4}`, 'any', [ev(`new-${i % 4}`, i)], { fence: 'leader', token: 2 })),
      );
      const results = await Promise.all([...oldWriter, ...newWriter]);
      for (const r of results) {
        if (!r.ok) expect(r.error).to.be.instanceOf(StaleFencingTokenError);
      }
      expect(results.slice(60).every((r) => r.ok)).to.equal(true);
      const { rows } = await t.pool.query<{ token: string; first: string; last: string }>(
        'SELECT fencing_token AS token, min(position) AS first, max(position) AS last FROM flexcore.events GROUP BY 1',
      );
      const byToken = Object.fromEntries(rows.map((r) => [r.token, r]));
      if (byToken['1']) expect(Number(byToken['1'].last)).to.be.lessThan(Number(byToken['2']!.first));
      const late = await settle(
        t.store.append('old-0', 'any', [ev('old-0', 999)], { fence: 'leader', token: 1 }),
      );
      expect(!late.ok && late.error).to.be.instanceOf(StaleFencingTokenError);
    });

    it('raises a fence atomically for new leaders: distinct rising tokens, and the old one refused from that instant', async () => {
      const readModels = new ReadModels(t.pool);
      const first = await readModels.raiseFence('bucket-0');
      expect(first).to.equal(1);
      const oldWriter = Array.from({ length: 40 }, (_, i) =>
        settle(
          t.store.append(`s-${i % 5}`, 'any', [ev(`s-${i % 5}`, i)], { fence: 'bucket-0', token: first }),
        ),
      );
      await new Promise((r) => setTimeout(r, 3));
      // Several replicas acquiring one after another (or at once): each gets its own token.
      const raised = await Promise.all(Array.from({ length: 5 }, () => readModels.raiseFence('bucket-0')));
      expect([...raised].sort((a, b) => a - b)).to.deep.equal([2, 3, 4, 5, 6]);
      const results = await Promise.all(oldWriter);
      for (const r of results) if (!r.ok) expect(r.error).to.be.instanceOf(StaleFencingTokenError);
      const { rows } = await t.pool.query<{ raised_at: Date; last_old: Date | null }>(
        `SELECT (SELECT updated_at FROM flexcore.fences WHERE fence = 'bucket-0') AS raised_at,
                (SELECT max(recorded_at) FROM flexcore.events WHERE fencing_token = $1) AS last_old`,
        [first],
      );
      if (rows[0]!.last_old) expect(rows[0]!.last_old.getTime()).to.be.at.most(rows[0]!.raised_at.getTime());
      const late = await settle(
        t.store.append('s-0', 'any', [ev('s-0', 999)], { fence: 'bucket-0', token: 5 }),
      );
      expect(!late.ok && late.error, 'a token older than the newest raise').to.be.instanceOf(
        StaleFencingTokenError,
      );
      await t.store.append('s-0', 'any', [ev('s-0', 1000)], { fence: 'bucket-0', token: 6 });
      // A lost Lease object or Redis does not matter: the next raise still goes up.
      expect(await readModels.raiseFence('bucket-0')).to.equal(7);
    });

    it('bounds a raise held up by a writer frozen mid-transaction, and closes the pre-election fence', async () => {
      const readModels = new ReadModels(t.pool);
      const token = await readModels.raiseFence('bucket-1');
      const frozen = new pg.Client({ connectionString: t.url });
      await frozen.connect();
      try {
        await frozen.query('BEGIN');
        await frozen.query(`SELECT * FROM flexcore.append('x', -2, $1::jsonb, 'bucket-1', $2)`, [
          JSON.stringify([{ ...ev('x', 0), metadata: {} }]),
          token,
        ]);
        const blocked = await settle(readModels.raiseFence('bucket-1', 200));
        expect(!blocked.ok && (blocked.error as { code?: string }).code, 'lock_not_available').to.equal(
          '55P03',
        );
        await frozen.query('ROLLBACK');
      } finally {
        await frozen.end();
      }
      expect(await readModels.raiseFence('bucket-1', 200)).to.equal(token + 1);
      const { rows } = await t.pool.query<{ token: string }>(
        `SELECT token FROM flexcore.fences WHERE fence = 'flexcore-engine'`,
      );
      expect(rows[0]?.token, 'the single fence of controllers before leader election').to.equal(
        '9223372036854775807',
      );
      const old = await settle(
        t.store.append('y', 'any', [ev('y', 0)], { fence: 'flexcore-engine', token: 42 }),
      );
      expect(!old.ok && old.error).to.be.instanceOf(StaleFencingTokenError);
    });
  });

  describe('global feed', () => {
    it('does not skip an event whose transaction commits after a later one', async () => {
      const slow = new pg.Client({ connectionString: t.url });
      const fast = new pg.Client({ connectionString: t.url });
      await Promise.all([slow.connect(), fast.connect()]);
      const append = (c: pg.Client, stream: string, n: number): Promise<unknown> =>
        c.query(`SELECT * FROM flexcore.append($1, -2, $2::jsonb, 'leader', 1)`, [
          stream,
          JSON.stringify([ev(stream, n)]),
        ]);
      try {
        // The fence row exists already, as it does once a leader has written anything.
        await t.store.append('earlier', 'any', [ev('earlier', 0)], FENCE);
        const start = (await t.store.readFeed(FEED_START)).next;
        await slow.query('BEGIN');
        await append(slow, 'slow', 0); // lower transaction id, commits last
        await fast.query('BEGIN');
        await append(fast, 'fast', 0);
        await fast.query('COMMIT');
        const before = await t.store.readFeed(start);
        expect(before.events.map((e) => e.streamId)).to.deep.equal([]);
        await slow.query('COMMIT');
        const after = await t.store.readFeed(before.next);
        expect(after.events.map((e) => e.streamId)).to.deep.equal(['slow', 'fast']);
        expect((await t.store.readFeed(after.next)).events).to.deep.equal([]);
      } finally {
        await Promise.all([slow.end(), fast.end()]);
      }
    });

    it('a reader polling during concurrent appends with random commit delays sees every event exactly once', async () => {
      const writers = 6;
      const perWriter = 25;
      let done = false;
      const seen: RecordedEvent[] = [];
      const reader = (async () => {
        let cursor: FeedCursor = FEED_START;
        for (;;) {
          const finished = done;
          const page = await t.store.readFeed(cursor, 7);
          seen.push(...page.events);
          cursor = page.next;
          if (finished && page.events.length === 0) return;
        }
      })();
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          const c = new pg.Client({ connectionString: t.url });
          await c.connect();
          try {
            for (let i = 0; i < perWriter; i++) {
              await c.query('BEGIN');
              await c.query(`SELECT * FROM flexcore.append($1, -2, $2::jsonb, 'leader', 1)`, [
                `w${w}`,
                JSON.stringify([ev(`w${w}`, i)]),
              ]);
              await new Promise((r) => setTimeout(r, Math.random() * 15));
              await c.query('COMMIT');
            }
          } finally {
            await c.end();
          }
        }),
      );
      done = true;
      await reader;
      const ids = seen.map((e) => e.id);
      expect(new Set(ids).size).to.equal(ids.length);
      expect(ids).to.have.length(writers * perWriter);
      for (let w = 0; w < writers; w++) {
        const versions = seen.filter((e) => e.streamId === `w${w}`).map((e) => e.streamVersion);
        expect(versions).to.deep.equal(Array.from({ length: perWriter }, (_, i) => i));
      }
    });
  });
});
