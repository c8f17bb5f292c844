/**
 * Time as a seam: the engine asks a Clock for "now" and for timers, so tests drive time by hand
 * instead of waiting for real seconds (controller-runtime's clock.Clock, reduced).
 */

/** Cancels a timer started with `Clock.setTimer`; calling it twice is harmless. */
export type CancelTimer = () => void;

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `callback` once after `delayMs`; the returned function cancels it. */
  setTimer(callback: () => void, delayMs: number): CancelTimer;
}

/** The longest delay Node's timers accept. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The real clock. Timers are unref'd: a pending requeue never keeps the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, delayMs) {
    // setTimeout fires at once for delays beyond 2^31-1 ms (~24.8 days): clamp instead.
    const t = setTimeout(callback, Math.min(Math.max(0, delayMs), MAX_TIMER_MS));
    t.unref();
    return () => clearTimeout(t);
  },
};

/**
 * The real clock for intervals that must not jump (leader election: lease expiry, renew
 * deadlines): epoch-based at start, then advanced by the monotonic clock, so an NTP step
 * neither expires a live Lease early nor stretches a leader's time.
 */
export const monotonicClock: Clock = {
  now: () => Math.round(performance.timeOrigin + performance.now()),
  setTimer: (callback, delayMs) => systemClock.setTimer(callback, delayMs),
};
