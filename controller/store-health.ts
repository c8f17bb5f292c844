/** Whether the event store answers, checked every few seconds; readiness and /metrics report it. */
import { Gauge, type Registry } from 'prom-client';
import type { Clock, CancelTimer } from './clock.js';
import type { Logger } from './log.js';
import { perRegistry } from './per-registry.js';
import type { EventStore } from './store/event-store.js';

/** The registry's `flexcore_event_store_up`, read at scrape time from the latest manager's check. */
const storeUp = perRegistry((registry) => {
  const source: { health?: StoreHealth } = {};
  new Gauge({
    name: 'flexcore_event_store_up',
    help: 'Whether the event store answered the last check, every 2 s (1) or not (0).',
    registers: [registry],
    collect() {
      this.set(source.health?.available ? 1 : 0);
    },
  });
  return source;
});

export class StoreHealth {
  available = false;
  private cancel: CancelTimer | undefined;
  private stopped = false;

  constructor(
    private readonly store: EventStore,
    private readonly logger: Logger,
    private readonly clock: Clock,
    registry?: Registry,
    private readonly intervalMs = 2000,
  ) {
    if (registry) storeUp(registry).health = this;
  }

  start(): void {
    void this.check();
  }

  private async check(): Promise<void> {
    const now = await this.store.isAvailable();
    if (now !== this.available) {
      if (now) this.logger.info('event store available');
      else this.logger.warn('event store unavailable: pipelines pause at their next transition');
    }
    this.available = now;
    if (!this.stopped) this.cancel = this.clock.setTimer(() => void this.check(), this.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    this.cancel?.();
  }
}
