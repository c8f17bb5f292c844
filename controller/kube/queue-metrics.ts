/**
 * Prometheus metrics of work queues, with client-go's names and controller-runtime's `name`
 * label. One set per registry, shared by every queue registered on it.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { perRegistry } from '../per-registry.js';
import type { WorkQueueMetrics } from './work-queue.js';

// client-go's ExponentialBuckets(10e-9, 10, 12): 10 ns … 1000 s.
const durationBuckets = Array.from({ length: 12 }, (_, i) => Number((1e-8 * 10 ** i).toPrecision(1)));

/** The work-queue metrics of `registry`, created on first use; later calls return the same set. */
export const queueMetrics = perRegistry(createQueueMetrics);

type InFlight = Map<string, () => readonly number[]>;

function createQueueMetrics(registry: Registry): WorkQueueMetrics {
  const registers = [registry];
  const labelNames = ['name'] as const;
  const inFlight: InFlight = new Map();
  const depth = new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of workqueue',
    labelNames,
    registers,
  });
  const adds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by workqueue',
    labelNames,
    registers,
  });
  const retries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by workqueue',
    labelNames,
    registers,
  });
  const queueDuration = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long in seconds an item stays in workqueue before being requested',
    buckets: durationBuckets,
    labelNames,
    registers,
  });
  const workDuration = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long in seconds processing an item from workqueue takes.',
    buckets: durationBuckets,
    labelNames,
    registers,
  });
  inFlightGauges(registry, inFlight);
  return {
    register(queue, inFlightAges) {
      inFlight.set(queue, inFlightAges);
      // Series exist from the start, so dashboards see zeros rather than gaps.
      depth.set({ name: queue }, 0);
      adds.inc({ name: queue }, 0);
      retries.inc({ name: queue }, 0);
    },
    depth: (queue, n) => depth.set({ name: queue }, n),
    added: (queue) => adds.inc({ name: queue }),
    started: (queue, waitedMs) => queueDuration.observe({ name: queue }, waitedMs / 1000),
    finished: (queue, workedMs) => workDuration.observe({ name: queue }, workedMs / 1000),
    retried: (queue) => retries.inc({ name: queue }),
  };
}

/** The gauges of work in progress, computed at scrape time (client-go samples them every 500 ms). */
function inFlightGauges(registry: Registry, inFlight: InFlight): void {
  new Gauge({
    name: 'workqueue_unfinished_work_seconds',
    help:
      "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. " +
      'Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases.',
    labelNames: ['name'],
    registers: [registry],
    collect() {
      for (const [queue, ages] of inFlight) this.set({ name: queue }, sum(ages()) / 1000);
    },
  });
  new Gauge({
    name: 'workqueue_longest_running_processor_seconds',
    help: 'How many seconds has the longest running processor for workqueue been running.',
    labelNames: ['name'],
    registers: [registry],
    collect() {
      for (const [queue, ages] of inFlight) this.set({ name: queue }, Math.max(0, ...ages()) / 1000);
    },
  });
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
