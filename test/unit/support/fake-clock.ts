/**
 * A hand-driven Clock for unit tests: time moves only when a test calls `advance`, so timers,
 * backoffs and requeues are tested without waiting for real time.
 */
import type { CancelTimer, Clock } from '../../../controller/clock.js';

interface Timer {
  readonly at: number;
  /** Breaks ties between timers due at the same instant: first scheduled, first fired. */
  readonly seq: number;
  readonly callback: () => void;
}

/** A `Clock` whose time stands still until `advance` moves it. */
export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers = new Set<Timer>();

  /** Starts at `startMs` (ms since the epoch; 2025-01-01T00:00:00Z by default). */
  constructor(startMs = Date.UTC(2025, 0, 1)) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(callback: () => void, delayMs: number): CancelTimer {
    const timer: Timer = { at: this.current + Math.max(0, delayMs), seq: this.seq++, callback };
    this.timers.add(timer);
    return () => {
      this.timers.delete(timer);
    };
  }

  /**
   * Moves time forward by `ms`, firing due timers in time order with `now()` set to each one's
   * due time. Timers that fired callbacks schedule within the window fire too.
   */
  advance(ms: number): void {
    const target = this.current + ms;
    for (let timer = this.nextDue(target); timer; timer = this.nextDue(target)) {
      this.timers.delete(timer);
      this.current = timer.at;
      timer.callback();
    }
    this.current = target;
  }

  /** How many timers are scheduled and not yet fired or cancelled. */
  pendingTimers(): number {
    return this.timers.size;
  }

  private nextDue(limit: number): Timer | undefined {
    let next: Timer | undefined;
    for (const t of this.timers) {
      if (t.at > limit) continue;
      if (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq)) next = t;
    }
    return next;
  }
}

/** Lets promise chains started by fired timers (or anything else) run to their next real wait. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
