/**
 * Leader-election timings (client-go's LeaderElectionConfig): how long a Lease is valid, how
 * long a leader keeps trying to renew before it gives up, how often everyone tries.
 */
import { ElectionConfigError } from './errors.js';

export interface ElectionTimings {
  /** A standby takes over a Lease not seen to change for this long (15 s). */
  readonly leaseDurationMs: number;
  /** A leader that could not renew for this long stops leading (10 s). */
  readonly renewDeadlineMs: number;
  /** Between tries to acquire or renew (2 s). */
  readonly retryPeriodMs: number;
}

export const DEFAULT_TIMINGS: ElectionTimings = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

/** client-go's JitterFactor: standbys wait retryPeriod × (1 + up to 1.2) between tries. */
export const JITTER_FACTOR = 1.2;

/** The timings, or an ElectionConfigError naming what is out of order (client-go's rules). */
export function checkTimings(t: ElectionTimings): ElectionTimings {
  for (const [name, v] of Object.entries(t)) {
    if (!Number.isFinite(v) || v <= 0) throw new ElectionConfigError(`${name} must be a positive duration`);
  }
  if (t.leaseDurationMs <= t.renewDeadlineMs)
    throw new ElectionConfigError(
      `lease duration (${t.leaseDurationMs} ms) must be greater than the renew deadline (${t.renewDeadlineMs} ms)`,
    );
  if (t.renewDeadlineMs <= JITTER_FACTOR * t.retryPeriodMs)
    throw new ElectionConfigError(
      `renew deadline (${t.renewDeadlineMs} ms) must be greater than ${JITTER_FACTOR} × the retry period (${t.retryPeriodMs} ms)`,
    );
  if (t.leaseDurationMs % 1000 !== 0)
    throw new ElectionConfigError(
      `lease duration (${t.leaseDurationMs} ms) must be whole seconds (Lease.spec.leaseDurationSeconds)`,
    );
  return t;
}
