import { expect } from 'chai';
import { FEED_START } from '../../controller/store/cursor.js';
import { StoreUnavailableError } from '../../controller/store/errors.js';
import { deterministicEventId } from '../../controller/store/event-store.js';
import { FeedSubscription } from '../../controller/store/feed-subscription.js';
import type { NewEvent, RecordedEvent } from '../../controller/store/recorded-event.js';
import { freshStore, sharedPostgres, type TestStore } from './support/store.js';

const FENCE = { fence: 'leader', token: 1 };
const ev = (n: number): NewEvent => ({ id: deterministicEventId('outage', n), type: 'Noted', data: { n } });

describe('event store: PostgreSQL restarts and the feed subscription', function () {
  this.timeout(90_000);
  let t: TestStore;
  beforeEach(async () => {
    t = await freshStore();
  });
  afterEach(async () => {
    await t.close();
  });

  it('callers see "unavailable" while PostgreSQL is down, then succeed, with nothing lost or doubled', async () => {
    const server = await sharedPostgres();
    const failures: unknown[] = [];
    const written: number[] = [];
    await t.store.append('s', 'any', [ev(0)], FENCE);
    written.push(0);
    await server.pause();
    try {
      expect(await t.store.isAvailable()).to.equal(false);
      for (let n = 1; n <= 3; n++) {
        await t.store.append('s', 'any', [ev(n)], FENCE).catch((e: unknown) => failures.push(e));
      }
    } finally {
      await server.resume();
    }
    expect(failures).to.have.length(3);
    for (const f of failures) expect(f).to.be.instanceOf(StoreUnavailableError);
    await t.store.waitUntilAvailable(30_000, 100);
    // The writer retries what failed, with the same deterministic ids, plus new work.
    for (let n = 1; n <= 4; n++) {
      await t.store.append('s', 'any', [ev(n)], FENCE);
      written.push(n);
    }
    await t.store.append('s', 'any', [ev(2)], FENCE); // a retry of something already written
    const events = await t.store.readStream('s');
    expect(events.map((e) => e.data.n)).to.deep.equal(written);
    expect(events.map((e) => e.streamVersion)).to.deep.equal([0, 1, 2, 3, 4]);
  });

  it('delivers events soon after they commit, in order, and keeps delivering when its LISTEN connection dies', async () => {
    const got: RecordedEvent[] = [];
    const sub = new FeedSubscription(
      t.store,
      FEED_START,
      (events) => Promise.resolve(void got.push(...events)),
      {
        listenUrl: t.url,
        pollIntervalMs: 300,
      },
    );
    try {
      const waitFor = async (n: number): Promise<void> => {
        const deadline = Date.now() + 10_000;
        while (got.length < n) {
          if (Date.now() > deadline) throw new Error(`subscription saw ${got.length} of ${n} events`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      for (let n = 0; n < 5; n++) await t.store.append('sub', 'any', [ev(n)], FENCE);
      await waitFor(5);
      // Kill the LISTEN backend: notifications stop, polling still delivers.
      await t.pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = 'LISTEN flexcore_events' AND pid <> pg_backend_pid()`,
      );
      for (let n = 5; n < 10; n++) await t.store.append('sub', 'any', [ev(n)], FENCE);
      await waitFor(10);
      expect(got.map((e) => e.data.n)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    } finally {
      await sub.close();
    }
  });
});
