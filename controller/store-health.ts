/** Whether the event store answers, checked every few seconds; readiness reports it. */
import type { Clock, CancelTimer } from './clock.js';
import type { Logger } from './log.js';
import type { EventStore } from './store/event-store.js';

export class StoreHealth {
  available = false;
  private cancel: CancelTimer | undefined;
  private stopped = false;

  constructor(
    private readonly store: EventStore,
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly intervalMs = 2000,
  ) {}

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
