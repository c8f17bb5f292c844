import { expect } from 'chai';
import { Registry } from 'prom-client';
import { queueMetrics } from '../../controller/kube/queue-metrics.js';
import { WorkQueue } from '../../controller/kube/work-queue.js';
import { silentLogger, type LogFields, type Logger } from '../../controller/log.js';
import { Controller } from '../../controller/reconcile/controller.js';
import {
  RequeueAfterError,
  TerminalError,
  TransientError,
  type Reconcile,
  type ReconcileResult,
} from '../../controller/reconcile/errors.js';
import { reconcileMetrics } from '../../controller/reconcile/metrics.js';
import { FakeClock, settle } from './support/fake-clock.js';
import { sample } from './support/metrics.js';

interface Harness {
  readonly clock: FakeClock;
  readonly registry: Registry;
  readonly queue: WorkQueue;
  readonly controller: Controller;
}

function harness(reconcile: Reconcile, workers = 1, logger: Logger = silentLogger): Harness {
  const clock = new FakeClock();
  const registry = new Registry();
  const queue = new WorkQueue({ name: 'pipelines', clock, metrics: queueMetrics(registry) });
  const metrics = reconcileMetrics(registry);
  const controller = new Controller({ name: 'pipelines', reconcile, queue, workers, logger, metrics, clock });
  return { clock, registry, queue, controller };
}

const ctl = { controller: 'pipelines' };

async function reconcileTotals(registry: Registry): Promise<Record<string, number | undefined>> {
  const results = ['success', 'error', 'requeue', 'requeue_after'];
  const values = await Promise.all(
    results.map((result) => sample(registry, 'controller_runtime_reconcile_total', { ...ctl, result })),
  );
  return Object.fromEntries(results.map((r, i) => [r, values[i]]));
}

interface Deferred {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Moves the fake clock forward and lets the workers react. */
async function advance(h: Harness, ms: number): Promise<void> {
  h.clock.advance(ms);
  await settle();
}

describe('reconcile controller', () => {
  describe('outcome of the first reconcile', () => {
    const cases: {
      name: string;
      outcome: () => Promise<ReconcileResult | void>;
      totals: Record<string, number>;
      errors: number;
      terminal: number;
      /** When the key is reconciled again, or undefined if never. */
      againAfterMs?: number;
      requeues: number;
    }[] = [
      {
        name: 'success with no result: forgets and does not requeue',
        outcome: () => Promise.resolve(),
        totals: { success: 1, error: 0, requeue: 0, requeue_after: 0 },
        errors: 0,
        terminal: 0,
        requeues: 0,
      },
      {
        name: 'success with requeueAfterMs: looks again after that delay',
        outcome: () => Promise.resolve({ requeueAfterMs: 1500 }),
        totals: { success: 0, error: 0, requeue: 0, requeue_after: 1 },
        errors: 0,
        terminal: 0,
        againAfterMs: 1500,
        requeues: 0,
      },
      {
        name: 'TerminalError: not retried',
        outcome: () => Promise.reject(new TerminalError('bad spec')),
        totals: { success: 0, error: 1, requeue: 0, requeue_after: 0 },
        errors: 1,
        terminal: 1,
        requeues: 0,
      },
      {
        name: 'RequeueAfterError: looks again after its delay, without backoff',
        outcome: () => Promise.reject(new RequeueAfterError('plugin not ready', 250)),
        totals: { success: 0, error: 0, requeue: 0, requeue_after: 1 },
        errors: 0,
        terminal: 0,
        againAfterMs: 250,
        requeues: 0,
      },
      {
        name: 'TransientError: backs off 5 ms',
        outcome: () => Promise.reject(new TransientError('conflict')),
        totals: { success: 0, error: 1, requeue: 0, requeue_after: 0 },
        errors: 1,
        terminal: 0,
        againAfterMs: 5,
        requeues: 1,
      },
      {
        name: 'a rejection that is not an Error: backs off 5 ms',
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- third-party code may reject with anything
        outcome: () => Promise.reject('just a string'),
        totals: { success: 0, error: 1, requeue: 0, requeue_after: 0 },
        errors: 1,
        terminal: 0,
        againAfterMs: 5,
        requeues: 1,
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const runs: number[] = [];
        const h = harness(() => {
          runs.push(h.clock.now());
          return runs.length === 1 ? c.outcome() : Promise.resolve();
        });
        const t0 = h.clock.now();
        h.controller.start();
        h.controller.enqueue('ns/p');
        await settle();
        expect(runs).to.deep.equal([t0]);
        expect(h.queue.numRequeues('ns/p')).to.equal(c.requeues);
        expect(await reconcileTotals(h.registry)).to.deep.equal(c.totals);
        expect(await sample(h.registry, 'controller_runtime_reconcile_errors_total', ctl)).to.equal(c.errors);
        expect(await sample(h.registry, 'controller_runtime_terminal_reconcile_errors_total', ctl)).to.equal(
          c.terminal,
        );
        if (c.againAfterMs === undefined) {
          expect(h.clock.pendingTimers()).to.equal(0);
          await advance(h, 3_600_000);
          expect(runs).to.have.length(1);
        } else {
          await advance(h, c.againAfterMs - 1);
          expect(runs).to.have.length(1);
          await advance(h, 1);
          expect(runs).to.deep.equal([t0, t0 + c.againAfterMs]);
        }
        await h.controller.stop();
      });
    }
  });

  it('retries a failing key with growing backoff, counts retries, and forgets it on success', async () => {
    const runs: number[] = [];
    const h = harness(() => {
      runs.push(h.clock.now());
      return runs.length <= 3 ? Promise.reject(new Error('api unavailable')) : Promise.resolve();
    });
    const t0 = h.clock.now();
    h.controller.start();
    h.controller.enqueue('ns/p');
    await settle();
    for (let i = 0; i < 100; i++) await advance(h, 1);
    expect(runs.map((t) => t - t0)).to.deep.equal([0, 5, 15, 35]);
    expect(h.queue.numRequeues('ns/p')).to.equal(0);
    expect(await sample(h.registry, 'workqueue_retries_total', { name: 'pipelines' })).to.equal(3);
    expect(await sample(h.registry, 'controller_runtime_reconcile_errors_total', ctl)).to.equal(3);
    expect(await reconcileTotals(h.registry)).to.deep.equal({
      success: 1,
      error: 3,
      requeue: 0,
      requeue_after: 0,
    });
    await h.controller.stop();
  });

  it('survives a reconcile that throws synchronously and keeps serving other keys', async () => {
    const seen: string[] = [];
    const throwsFirst = ((key: string) => {
      seen.push(key);
      if (seen.length === 1) throw new Error('sync boom');
      return Promise.resolve();
    }) as Reconcile;
    const h = harness(throwsFirst);
    h.controller.start();
    h.controller.enqueue('ns/a');
    h.controller.enqueue('ns/b');
    await settle();
    expect(seen).to.deep.equal(['ns/a', 'ns/b']);
    await advance(h, 5);
    expect(seen).to.deep.equal(['ns/a', 'ns/b', 'ns/a']);
    expect(await sample(h.registry, 'controller_runtime_reconcile_errors_total', ctl)).to.equal(1);
    await h.controller.stop();
  });

  it('logs terminal errors as errors and backoffs as warnings, with the key', async () => {
    const lines: { level: string; message: string; fields: LogFields }[] = [];
    const recording = (base: LogFields): Logger => {
      const at =
        (level: string) =>
        (message: string, fields: LogFields = {}): void => {
          lines.push({ level, message, fields: { ...base, ...fields } });
        };
      return {
        debug: at('debug'),
        info: at('info'),
        warn: at('warn'),
        error: at('error'),
        child: (f) => recording({ ...base, ...f }),
      };
    };
    const h = harness(
      (key) => Promise.reject(key === 'ns/bad' ? new TerminalError('cycle') : new Error('timeout')),
      1,
      recording({}),
    );
    h.controller.start();
    h.controller.enqueue('ns/bad');
    h.controller.enqueue('ns/flaky');
    await settle();
    const failures = lines.filter((l) => l.level === 'error' || l.level === 'warn');
    expect(failures.map((l) => [l.level, l.fields.key, l.fields.controller])).to.deep.equal([
      ['error', 'ns/bad', 'pipelines'],
      ['warn', 'ns/flaky', 'pipelines'],
    ]);
    expect(failures[0]?.fields.error).to.equal('TerminalError: cycle');
    await h.controller.stop();
  });

  describe('workers', () => {
    it('reconcile different keys in parallel but never one key twice at once', async () => {
      const gates = new Map<string, Deferred[]>();
      const running = new Map<string, number>();
      let maxSameKey = 0;
      const h = harness(async (key) => {
        running.set(key, (running.get(key) ?? 0) + 1);
        maxSameKey = Math.max(maxSameKey, running.get(key) ?? 0);
        const gate = deferred();
        gates.set(key, [...(gates.get(key) ?? []), gate]);
        await gate.promise;
        running.set(key, (running.get(key) ?? 0) - 1);
      }, 3);
      h.controller.start();
      for (const key of ['ns/a', 'ns/b', 'ns/c']) h.controller.enqueue(key);
      await settle();
      expect([...running.entries()]).to.deep.equal([
        ['ns/a', 1],
        ['ns/b', 1],
        ['ns/c', 1],
      ]);
      expect(await sample(h.registry, 'controller_runtime_active_workers', ctl)).to.equal(3);
      expect(await sample(h.registry, 'controller_runtime_max_concurrent_reconciles', ctl)).to.equal(3);

      h.controller.enqueue('ns/a'); // changed while being reconciled
      h.controller.enqueue('ns/d'); // no free worker yet
      await settle();
      expect(gates.get('ns/a')).to.have.length(1);
      expect(h.controller.queueDepth()).to.equal(1);

      gates.get('ns/b')?.[0]?.resolve(); // frees a worker: it takes ns/d, not ns/a
      await settle();
      expect(running.get('ns/d')).to.equal(1);
      expect(gates.get('ns/a')).to.have.length(1);

      gates.get('ns/a')?.[0]?.resolve(); // done: ns/a is queued again and reconciled once more
      await settle();
      expect(gates.get('ns/a')).to.have.length(2);
      expect(maxSameKey).to.equal(1);

      for (const list of gates.values()) for (const g of list) g.resolve();
      await h.controller.stop();
      expect(await sample(h.registry, 'controller_runtime_active_workers', ctl)).to.equal(0);
      expect(
        await sample(
          h.registry,
          'controller_runtime_reconcile_time_seconds',
          ctl,
          'controller_runtime_reconcile_time_seconds_count',
        ),
      ).to.equal(5);
    });

    it('rejects a worker count that is not a positive integer', () => {
      for (const workers of [0, -1, 1.5, Number.NaN]) {
        expect(() => harness(() => Promise.resolve(), workers)).to.throw(RangeError);
      }
    });
  });

  describe('stop', () => {
    it('waits for reconciles in flight, then ends the workers without taking queued keys', async () => {
      const gate = deferred();
      const seen: string[] = [];
      const h = harness(async (key) => {
        seen.push(key);
        await gate.promise;
      });
      h.controller.start();
      h.controller.enqueue('ns/a');
      h.controller.enqueue('ns/b');
      await settle();
      let stopped = false;
      const stopping = h.controller.stop().then(() => (stopped = true));
      await settle();
      expect(stopped).to.equal(false);
      gate.resolve();
      await stopping;
      expect(seen).to.deep.equal(['ns/a']);
      h.controller.enqueue('ns/c');
      await settle();
      expect(seen).to.deep.equal(['ns/a']);
      expect(h.controller.queueDepth()).to.equal(0);
    });
  });

  it('enqueueAfter schedules a reconcile, earliest request first', async () => {
    const seen: number[] = [];
    const h = harness(() => {
      seen.push(h.clock.now());
      return Promise.resolve();
    });
    const t0 = h.clock.now();
    h.controller.start();
    h.controller.enqueueAfter('ns/a', 500);
    h.controller.enqueueAfter('ns/a', 200);
    await advance(h, 199);
    expect(seen).to.deep.equal([]);
    await advance(h, 1);
    expect(seen).to.deep.equal([t0 + 200]);
    await advance(h, 1000);
    expect(seen).to.have.length(1);
    await h.controller.stop();
  });

  it('shares one registry between controllers', async () => {
    const registry = new Registry();
    expect(reconcileMetrics(registry)).to.equal(reconcileMetrics(registry));
    const clock = new FakeClock();
    const controllers = ['plugins', 'pipelines'].map((name) => {
      const queue = new WorkQueue({ name, clock, metrics: queueMetrics(registry) });
      const metrics = reconcileMetrics(registry);
      const reconcile = (): Promise<void> => Promise.resolve();
      return new Controller({ name, reconcile, queue, workers: 2, logger: silentLogger, metrics });
    });
    for (const c of controllers) c.start();
    const text = await registry.getSingleMetricAsString('controller_runtime_max_concurrent_reconciles');
    expect(text).to.include('{controller="plugins"} 2').and.to.include('{controller="pipelines"} 2');
    await Promise.all(controllers.map((c) => c.stop()));
  });
});
