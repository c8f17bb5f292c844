/** Requests to the status API by operation and status code, and their latency. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ApiMetrics {
  observe(operation: string, code: number, seconds: number): void;
  readonly authDecisions: Counter<'kind' | 'cached' | 'result'>;
  readonly streamClients: Gauge;
  readonly streamsEnded: Counter<'reason'>;
  /** Seconds from an event being recorded to the feed reader reading it. */
  readonly feedDelay: Histogram;
}

export function apiMetrics(registry: Registry): ApiMetrics {
  const requests = new Counter({
    name: 'flexcore_api_requests_total',
    help: 'Status API requests by operation and HTTP status code.',
    labelNames: ['operation', 'code'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'flexcore_api_request_duration_seconds',
    help: 'Status API request latency by operation (streams: until they end).',
    labelNames: ['operation'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const authDecisions = new Counter({
    name: 'flexcore_api_auth_decisions_total',
    help: 'TokenReview and SubjectAccessReview decisions, by kind, whether the cache answered, and result.',
    labelNames: ['kind', 'cached', 'result'],
    registers: [registry],
  });
  const streamClients = new Gauge({
    name: 'flexcore_api_stream_clients',
    help: 'Live stream (server-sent events) clients connected to this replica.',
    registers: [registry],
  });
  const streamsEnded = new Counter({
    name: 'flexcore_api_streams_ended_total',
    help: 'Live streams ended, by reason (closed by the client, too slow, forbidden, shutdown).',
    labelNames: ['reason'],
    registers: [registry],
  });
  const feedDelay = new Histogram({
    name: 'flexcore_event_feed_delay_seconds',
    help: 'Time from an event being recorded to this replica reading it from the feed for live streams (the feed lag).',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  return {
    streamClients,
    feedDelay,
    streamsEnded,
    observe(operation, code, seconds) {
      requests.inc({ operation, code: String(code) });
      duration.observe({ operation }, seconds);
    },
    authDecisions,
  };
}
