/**
 * The runner of one reconciler (controller-runtime's controller): N workers take keys from a
 * work queue, call the reconcile, and turn its outcome into the next step for that key: forget,
 * look again later, back off, or give up until the object changes.
 */
import { systemClock, type Clock } from '../clock.js';
import type { WorkQueue } from '../kube/work-queue.js';
import type { Logger } from '../log.js';
import { retryDecision, type Reconcile, type ReconcileResult } from './errors.js';
import { initReconcileSeries, type ReconcileMetrics, type ReconcileResultLabel } from './metrics.js';

export interface ControllerOptions {
  /** The controller's name: the `controller` label of metrics and a field of every log line. */
  readonly name: string;
  readonly reconcile: Reconcile;
  readonly queue: WorkQueue;
  /** How many keys are reconciled at once (controller-runtime's MaxConcurrentReconciles). */
  readonly workers: number;
  readonly logger: Logger;
  readonly metrics?: ReconcileMetrics;
  /** Times reconciles for metrics; the system clock by default. */
  readonly clock?: Clock;
}

type Outcome =
  { readonly ok: true; readonly result: ReconcileResult } | { readonly ok: false; readonly error: unknown };

/** Runs a reconcile for every key of its queue with a fixed number of workers. */
export class Controller {
  readonly name: string;
  private readonly reconcile: Reconcile;
  private readonly queue: WorkQueue;
  private readonly workers: number;
  private readonly log: Logger;
  private readonly metrics: ReconcileMetrics | undefined;
  private readonly clock: Clock;
  private readonly labels: { readonly controller: string };
  private loops: Promise<void>[] = [];

  constructor(options: ControllerOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1)
      throw new RangeError(`controller ${options.name}: workers must be a positive integer`);
    this.name = options.name;
    this.reconcile = options.reconcile;
    this.queue = options.queue;
    this.workers = options.workers;
    this.log = options.logger.child({ controller: options.name });
    this.metrics = options.metrics;
    this.clock = options.clock ?? systemClock;
    this.labels = { controller: options.name };
  }

  /** Starts the worker loops; they run until `stop`. */
  start(): void {
    if (this.loops.length > 0) throw new Error(`controller ${this.name} is already started`);
    if (this.metrics) initReconcileSeries(this.metrics, this.name, this.workers);
    this.log.info('starting workers', { workers: this.workers });
    this.loops = Array.from({ length: this.workers }, () => this.worker());
  }

  /** Shuts the queue down, waits for reconciles in progress, then for the worker loops to end. */
  async stop(): Promise<void> {
    await this.queue.shutDownWithDrain();
    await Promise.all(this.loops);
    this.log.info('stopped workers');
  }

  /** Keys waiting for a worker (the status API's queue depth). */
  depth(): number {
    return this.queue.len();
  }

  /** Asks for a reconcile of `key` (de-duplicated by the queue). */
  enqueue(key: string): void {
    this.queue.add(key);
  }

  /** Asks for a reconcile of `key` after `delayMs`; an earlier request for the same key wins. */
  enqueueAfter(key: string, delayMs: number): void {
    this.queue.addAfter(key, delayMs);
  }

  /** Keys waiting for a worker, for readiness and status. */
  queueDepth(): number {
    return this.queue.len();
  }

  private async worker(): Promise<void> {
    for (let key = await this.queue.get(); key !== undefined; key = await this.queue.get()) {
      // `process` handles every reconcile failure; this guards the loop against anything else.
      await this.process(key).catch((err: unknown) =>
        this.log.error('worker failed to handle a key', { key, error: describe(err) }),
      );
    }
  }

  private async process(key: string): Promise<void> {
    const startedAt = this.clock.now();
    this.metrics?.activeWorkers.inc(this.labels);
    try {
      const outcome = await this.attempt(key);
      if (outcome.ok) this.succeeded(key, outcome.result);
      else this.failed(key, outcome.error);
    } finally {
      this.metrics?.time.observe(this.labels, (this.clock.now() - startedAt) / 1000);
      this.metrics?.activeWorkers.dec(this.labels);
      this.queue.done(key);
    }
  }

  /** Calls the reconcile, catching rejections and synchronous throws alike. */
  private async attempt(key: string): Promise<Outcome> {
    try {
      return { ok: true, result: (await this.reconcile(key)) ?? {} };
    } catch (error) {
      return { ok: false, error };
    }
  }

  private succeeded(key: string, result: ReconcileResult): void {
    this.queue.forget(key);
    const after = result.requeueAfterMs;
    if (after !== undefined && after > 0) {
      this.queue.addAfter(key, after);
      this.count('requeue_after');
    } else {
      this.count('success');
    }
  }

  private failed(key: string, error: unknown): void {
    const decision = retryDecision(error);
    switch (decision.kind) {
      case 'terminal':
        this.queue.forget(key);
        this.countError(true);
        this.log.error('reconcile failed; not retrying until the object changes', {
          key,
          error: describe(error),
        });
        return;
      case 'requeueAfter':
        // Not a failure of the input (a dependency is not ready): a timer, like Result{RequeueAfter}.
        this.queue.forget(key);
        this.queue.addAfter(key, decision.delayMs);
        this.count('requeue_after');
        this.log.info('reconcile requeued', { key, afterMs: decision.delayMs, reason: describe(error) });
        return;
      case 'backoff':
        this.queue.addRateLimited(key);
        this.countError(false);
        this.log.warn('reconcile failed; retrying with backoff', {
          key,
          error: describe(error),
          requeues: this.queue.numRequeues(key),
        });
        return;
    }
  }

  private count(result: ReconcileResultLabel): void {
    this.metrics?.total.inc({ ...this.labels, result });
  }

  private countError(terminal: boolean): void {
    this.count('error');
    this.metrics?.errors.inc(this.labels);
    if (terminal) this.metrics?.terminalErrors.inc(this.labels);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
