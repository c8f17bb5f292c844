import { expect } from 'chai';
import { Registry } from 'prom-client';
import { queueMetrics } from '../../controller/kube/queue-metrics.js';
import { WorkQueue } from '../../controller/kube/work-queue.js';
import { FakeClock, settle } from './support/fake-clock.js';
import { sample } from './support/metrics.js';

function newQueue(clock = new FakeClock(), registry?: Registry, name = 'test'): WorkQueue {
  return new WorkQueue({ name, clock, metrics: registry ? queueMetrics(registry) : undefined });
}

/** Tracks whether a promise has settled, without awaiting it. */
function watch<T>(promise: Promise<T>): { settled: () => boolean; value: () => T | undefined } {
  let done = false;
  let value: T | undefined;
  void promise.then((v) => {
    done = true;
    value = v;
  });
  return { settled: () => done, value: () => value };
}

/** Takes every ready key, marking each done, in the order the queue hands them out. */
async function drainReady(queue: WorkQueue): Promise<string[]> {
  const keys: string[] = [];
  while (queue.len() > 0) {
    const key = (await queue.get()) as string;
    keys.push(key);
    queue.done(key);
  }
  return keys;
}

describe('work queue', () => {
  describe('de-duplication and order', () => {
    const cases: { name: string; adds: string[]; want: string[] }[] = [
      { name: 'keeps first-added order', adds: ['c', 'a', 'b'], want: ['c', 'a', 'b'] },
      { name: 'queues a repeated key once', adds: ['a', 'b', 'a', 'a', 'b'], want: ['a', 'b'] },
    ];
    for (const { name, adds, want } of cases) {
      it(name, async () => {
        const queue = newQueue();
        for (const key of adds) queue.add(key);
        expect(queue.len()).to.equal(want.length);
        expect(await drainReady(queue)).to.deep.equal(want);
      });
    }
  });

  describe('one worker per key', () => {
    it('re-queues a key added while it is processed only when it is done', async () => {
      const queue = newQueue();
      queue.add('a');
      expect(await queue.get()).to.equal('a');
      queue.add('a');
      queue.add('a');
      expect(queue.len()).to.equal(0);
      const second = watch(queue.get());
      await settle();
      expect(second.settled()).to.equal(false);
      queue.done('a');
      await settle();
      expect(second.value()).to.equal('a');
      expect(queue.len()).to.equal(0);
    });

    it('never hands the same key to two waiting workers', async () => {
      const queue = newQueue();
      const workers = [watch(queue.get()), watch(queue.get())];
      queue.add('a');
      queue.add('a');
      await settle();
      expect(workers.filter((w) => w.settled())).to.have.length(1);
      queue.add('b');
      await settle();
      expect(workers.map((w) => w.value()).sort()).to.deep.equal(['a', 'b']);
    });

    it('drops a done that matches no key in progress', async () => {
      const queue = newQueue();
      queue.done('ghost');
      queue.add('a');
      expect(await queue.get()).to.equal('a');
    });
  });

  describe('delayed adds', () => {
    it('adds keys when their delays pass, in time order', async () => {
      const clock = new FakeClock();
      const queue = newQueue(clock);
      queue.addAfter('c', 30);
      queue.addAfter('a', 10);
      queue.addAfter('b', 20);
      clock.advance(9);
      expect(queue.len()).to.equal(0);
      clock.advance(1);
      expect(await drainReady(queue)).to.deep.equal(['a']);
      clock.advance(20);
      expect(await drainReady(queue)).to.deep.equal(['b', 'c']);
    });

    const earliest: { name: string; delays: number[]; readyAt: number }[] = [
      { name: 'a sooner request moves the key up', delays: [100, 50], readyAt: 50 },
      { name: 'a later request leaves the earlier one', delays: [50, 100], readyAt: 50 },
      { name: 'the same delay keeps the first timer', delays: [50, 50], readyAt: 50 },
    ];
    for (const { name, delays, readyAt } of earliest) {
      it(`earliest wins: ${name}`, async () => {
        const clock = new FakeClock();
        const queue = newQueue(clock);
        for (const d of delays) queue.addAfter('k', d);
        expect(clock.pendingTimers()).to.equal(1);
        clock.advance(readyAt - 1);
        expect(queue.len()).to.equal(0);
        clock.advance(1);
        expect(await drainReady(queue)).to.deep.equal(['k']);
        clock.advance(1000);
        expect(queue.len()).to.equal(0);
        expect(clock.pendingTimers()).to.equal(0);
      });
    }

    it('adds at once when the delay is not positive', () => {
      const clock = new FakeClock();
      const queue = newQueue(clock);
      queue.addAfter('now', 0);
      queue.addAfter('past', -5);
      expect(queue.len()).to.equal(2);
      expect(clock.pendingTimers()).to.equal(0);
    });
  });

  describe('rate-limited adds', () => {
    it('backs a key off 5, 10, 20 ms and forget starts over', async () => {
      const clock = new FakeClock();
      const queue = newQueue(clock);
      const readyAfter: number[] = [];
      for (let i = 0; i < 3; i++) {
        const start = clock.now();
        queue.addRateLimited('k');
        while (queue.len() === 0) clock.advance(1);
        readyAfter.push(clock.now() - start);
        await drainReady(queue);
      }
      expect(readyAfter).to.deep.equal([5, 10, 20]);
      expect(queue.numRequeues('k')).to.equal(3);
      queue.forget('k');
      expect(queue.numRequeues('k')).to.equal(0);
      queue.addRateLimited('k');
      clock.advance(5);
      expect(queue.len()).to.equal(1);
    });
  });

  describe('shutdown', () => {
    it('resolves waiting and later getters with undefined and accepts nothing more', async () => {
      const clock = new FakeClock();
      const queue = newQueue(clock);
      const waiting = [queue.get(), queue.get()];
      queue.addAfter('later', 100);
      queue.shutDown();
      expect(await Promise.all(waiting)).to.deep.equal([undefined, undefined]);
      queue.add('a');
      queue.addRateLimited('b');
      queue.addAfter('c', 1);
      clock.advance(1000);
      expect(clock.pendingTimers()).to.equal(0);
      expect(queue.len()).to.equal(0);
      expect(await queue.get()).to.equal(undefined);
    });

    it('drops keys still queued', async () => {
      const queue = newQueue();
      queue.add('a');
      queue.shutDown();
      expect(queue.len()).to.equal(0);
      expect(await queue.get()).to.equal(undefined);
    });

    it('with drain, waits for every key in flight to be done', async () => {
      const queue = newQueue();
      queue.add('a');
      queue.add('b');
      const [a, b] = [await queue.get(), await queue.get()];
      queue.add('a'); // dirty while in flight: must not come back after shutdown
      const drained = watch(queue.shutDownWithDrain());
      await settle();
      expect(drained.settled()).to.equal(false);
      queue.done(a as string);
      await settle();
      expect(drained.settled()).to.equal(false);
      queue.done(b as string);
      await settle();
      expect(drained.settled()).to.equal(true);
      expect(queue.len()).to.equal(0);
    });

    it('with drain and nothing in flight, resolves at once', async () => {
      const queue = newQueue();
      queue.add('a');
      await queue.shutDownWithDrain();
      expect(await queue.get()).to.equal(undefined);
    });
  });

  describe('metrics', () => {
    it('reports depth, adds, retries and durations by queue name', async () => {
      const clock = new FakeClock();
      const registry = new Registry();
      const queue = newQueue(clock, registry, 'pipelines');
      const labels = { name: 'pipelines' };
      queue.add('a');
      queue.add('a');
      queue.add('b');
      expect(await sample(registry, 'workqueue_depth', labels)).to.equal(2);
      expect(await sample(registry, 'workqueue_adds_total', labels)).to.equal(2);
      clock.advance(2000);
      const key = (await queue.get()) as string;
      expect(await sample(registry, 'workqueue_depth', labels)).to.equal(1);
      const queued = 'workqueue_queue_duration_seconds';
      expect(await sample(registry, queued, labels, `${queued}_sum`)).to.equal(2);
      clock.advance(3000);
      expect(await sample(registry, 'workqueue_unfinished_work_seconds', labels)).to.equal(3);
      expect(await sample(registry, 'workqueue_longest_running_processor_seconds', labels)).to.equal(3);
      queue.done(key);
      const worked = 'workqueue_work_duration_seconds';
      expect(await sample(registry, worked, labels, `${worked}_sum`)).to.equal(3);
      expect(await sample(registry, worked, labels, `${worked}_count`)).to.equal(1);
      expect(await sample(registry, 'workqueue_unfinished_work_seconds', labels)).to.equal(0);
      queue.addRateLimited('a');
      queue.addAfter('c', 10);
      expect(await sample(registry, 'workqueue_retries_total', labels)).to.equal(2);
    });

    it('sums unfinished work over keys and reports the longest one', async () => {
      const clock = new FakeClock();
      const registry = new Registry();
      const queue = newQueue(clock, registry, 'q');
      queue.add('a');
      await queue.get();
      clock.advance(4000);
      queue.add('b');
      await queue.get();
      clock.advance(1000);
      expect(await sample(registry, 'workqueue_unfinished_work_seconds', { name: 'q' })).to.equal(6);
      expect(await sample(registry, 'workqueue_longest_running_processor_seconds', { name: 'q' })).to.equal(
        5,
      );
    });

    it('lets two queues share one registry, each with its own series', async () => {
      const registry = new Registry();
      expect(queueMetrics(registry)).to.equal(queueMetrics(registry));
      const one = newQueue(new FakeClock(), registry, 'one');
      newQueue(new FakeClock(), registry, 'two');
      one.add('a');
      expect(await sample(registry, 'workqueue_adds_total', { name: 'one' })).to.equal(1);
      expect(await sample(registry, 'workqueue_adds_total', { name: 'two' })).to.equal(0);
      expect(await registry.getSingleMetricAsString('workqueue_depth')).to.include(
        'workqueue_depth{name="two"} 0',
      );
    });
  });
});
