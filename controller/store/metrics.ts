/** Prometheus metrics of the event store. */
import { Counter, Histogram, type Registry } from 'prom-client';

export interface StoreMetrics {
  readonly appendDuration: Histogram;
  readonly appendedEvents: Counter;
  readonly fencingRejections: Counter;
}

export function storeMetrics(registry: Registry): StoreMetrics {
  return {
    appendDuration: new Histogram({
      name: 'flexcore_event_store_append_duration_seconds',
      help: 'Latency of event-store appends, including read-model updates.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    appendedEvents: new Counter({
      name: 'flexcore_event_store_events_appended_total',
      help: 'Events written to the event store (idempotent repeats are not counted).',
      registers: [registry],
    }),
    fencingRejections: new Counter({
      name: 'flexcore_event_store_fencing_rejections_total',
      help: 'Appends refused because the writer held a stale fencing token.',
      registers: [registry],
    }),
  };
}
