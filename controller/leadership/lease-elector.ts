/**
 * client-go's leader election for one scope, on a coordination.k8s.io/v1 Lease: standbys try
 * every retry period (with jitter) and at the instant the Lease they watch expires or is
 * released; the leader renews every retry period and stops leading when it sees another holder
 * or cannot renew for the renew deadline. Expiry is judged by the LOCAL clock from when the
 * record was last seen to change, never from the times written in it. On each acquisition the
 * new holder raises the scope's fence in PostgreSQL; only with that token does it lead. The raise
 * runs beside the renewals (a slow database never lets the Lease lapse), and a token that comes
 * back after the term ended, or after the renew deadline, is never used.
 */
import type { Clock, CancelTimer } from '../clock.js';
import { isApiStatusError } from '../kube/api-status-error.js';
import { isNewerOrUnknown } from '../kube/resource-version.js';
import type { Logger } from '../log.js';
import { NotLeaderError } from './errors.js';
import type { LeaseApi } from './lease-api.js';
import {
  expiresAt,
  leaseObject,
  mayTake,
  nextRecord,
  recordOf,
  releasedRecord,
  sameRecord,
  type LeaseObject,
  type Observation,
} from './lease-record.js';
import type { Term } from './term.js';
import { JITTER_FACTOR, type ElectionTimings } from './timings.js';

export type ElectorState = 'standby' | 'fencing' | 'leading';

export interface ElectorOptions {
  readonly scope: string;
  readonly namespace: string;
  readonly identity: string;
  readonly labels: Record<string, string>;
  readonly timings: ElectionTimings;
  readonly leases: LeaseApi;
  /** Raises the scope's fence and returns the new token (PostgreSQL), waiting at most `lockTimeoutMs`. */
  readonly raiseFence: (scope: string, lockTimeoutMs: number) => Promise<number>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random?: () => number;
  /** Asked at every standby try: whether this replica should take the Lease if it can (fair shares). */
  readonly shouldContend?: (scope: string) => boolean;
  /** Called when a term starts (lease held and fence raised). */
  readonly onAcquired?: (scope: string, token: number) => void;
  /** Called when a term ends, with why. `released` says the Lease is being handed back. */
  readonly onLost?: (scope: string, reason: string, released: boolean) => void;
  /** Called once a handed-back Lease shows no holder, so standbys may be told. */
  readonly onReleased?: (scope: string) => void;
}

type TryResult = 'ours' | 'other' | 'error';

/** A little slack after a Lease's local expiry before trying, so the try is not a hair early. */
const EXPIRY_SLACK_MS = 20;

export class LeaseElector {
  readonly scope: string;
  private state: ElectorState = 'standby';
  private token: number | undefined;
  private current: Term | undefined;
  private observed: Observation | undefined;
  private resourceVersion: string | undefined;
  /** When the last successful renewal was SENT: the term is trusted until this + renew deadline. */
  private renewedAt = 0;
  /** Counts acquisitions, so a fence raised for an earlier one is recognised and ignored. */
  private acquisition = 0;
  private raising = false;
  /** The try in flight; ticks never overlap, release and stop wait for it. */
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;
  private cancelTimer: CancelTimer | undefined;
  private cancelDeadline: CancelTimer | undefined;
  private fenceWarned = false;
  private readonly log: Logger;
  private readonly random: () => number;

  constructor(private readonly o: ElectorOptions) {
    this.scope = o.scope;
    this.log = o.logger.child({ scope: o.scope });
    this.random = o.random ?? Math.random;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops trying, waits for the try in flight, then hands a held Lease back when `release` is set. */
  async stop(release: boolean): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    await this.running;
    if (release) await this.release('shutting down');
    else if (this.state !== 'standby') this.lose('stopped', false);
    this.cancelDeadline?.();
  }

  /** Try now (a release was seen or announced). */
  poke(): void {
    if (!this.stopped) this.schedule(0);
  }

  get status(): ElectorState {
    return this.state;
  }

  holds(): boolean {
    return this.state !== 'standby';
  }

  /** The holder this replica last saw ('' when free), and whether that holder's Lease is live by the local clock. */
  holder(): { identity: string; live: boolean; freeSince?: number } {
    const obs = this.observed;
    if (!obs) return { identity: '', live: false, freeSince: undefined };
    const now = this.o.clock.now();
    const identity = obs.record.holderIdentity;
    if (identity === '') return { identity, live: false, freeSince: obs.seenAt };
    const end = obs.seenAt + this.o.timings.leaseDurationMs;
    return end > now || identity === this.o.identity
      ? { identity, live: true }
      : { identity, live: false, freeSince: end };
  }

  /** The current term, while leading with a token (one object per term: asked on every event). */
  term(): Term | undefined {
    return this.state === 'leading' ? this.current : undefined;
  }

  get fencingToken(): number | undefined {
    return this.token;
  }

  /** A Lease event from the watch: a release or expiry is acted on at once, another holder ends our term. */
  observe(lease: LeaseObject | undefined): void {
    // A late watch event must not move the observation back in time (it would look like a take-over).
    if (lease && !isNewerOrUnknown(lease.metadata.resourceVersion, this.resourceVersion)) return;
    this.see(lease);
    if (this.stopped) return;
    const holder = this.observed?.record.holderIdentity ?? '';
    if (this.state !== 'standby' && holder !== this.o.identity && lease) {
      this.lose(`another holder was seen: ${holder || '(released)'}`, false);
      this.schedule(0);
      return;
    }
    if (this.state === 'standby') this.schedule(this.standbyDelay());
  }

  /**
   * Hands the Lease back (client-go's release on cancel): the term ends first, then the holder
   * is cleared, after the try in flight (it may have renewed) and re-read once on a conflict.
   */
  async release(reason: string): Promise<void> {
    await this.running;
    if (this.state === 'standby' || !this.observed) return;
    this.lose(reason, true);
    for (let attempt = 0; attempt < 2; attempt++) {
      const old = this.observed?.record;
      if (!old || old.holderIdentity !== this.o.identity) return;
      const lease = leaseObject(
        this.scope,
        this.o.namespace,
        releasedRecord(old, this.o.clock.now()),
        this.o.labels,
        this.resourceVersion,
      );
      try {
        this.see(await this.o.leases.update(lease));
        this.o.onReleased?.(this.scope);
        return;
      } catch (err) {
        if (!isConflict(err) || attempt > 0) {
          this.log.warn('could not release the lease', { error: (err as Error).message });
          return;
        }
        this.see(await this.o.leases.get(this.scope).catch(() => undefined));
      }
    }
  }

  /** Ends a term the database refused: someone with a newer token leads. */
  stepDown(token: number, reason: string): void {
    if (this.token === token && this.state !== 'standby') this.lose(reason, false);
  }

  private termOf(token: number): Term {
    const fencing = { fence: this.scope, token };
    return {
      scope: this.scope,
      fencing,
      assertMayWrite: () => {
        if (this.state !== 'leading' || this.token !== token)
          throw new NotLeaderError(this.scope, `term ${token} ended`);
        if (this.overdue()) throw new NotLeaderError(this.scope, 'renewal overdue');
      },
      revoke: (reason) => this.stepDown(token, reason),
    };
  }

  private overdue(): boolean {
    return this.o.clock.now() >= this.renewedAt + this.o.timings.renewDeadlineMs;
  }

  private schedule(delayMs: number): void {
    this.cancelTimer?.();
    this.cancelTimer = this.o.clock.setTimer(() => void this.tick(), Math.max(0, delayMs));
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.step().finally(() => (this.running = undefined));
    await this.running;
    if (this.stopped) return;
    if (this.again) {
      this.again = false;
      this.schedule(0);
    } else {
      this.schedule(this.state === 'standby' ? this.standbyDelay() : this.o.timings.retryPeriodMs);
    }
  }

  private async step(): Promise<void> {
    try {
      if (this.state !== 'standby') await this.renew();
      else if (this.wants()) await this.acquire();
    } catch (err) {
      this.log.error('leader election step failed', { error: (err as Error).message });
    }
  }

  private wants(): boolean {
    return !this.stopped && (this.o.shouldContend?.(this.scope) ?? true);
  }

  /** A jittered retry period, or less when the watched Lease is free or expires sooner. */
  private standbyDelay(): number {
    const { retryPeriodMs, leaseDurationMs } = this.o.timings;
    const delay = retryPeriodMs * (1 + this.random() * JITTER_FACTOR);
    const obs = this.observed;
    if (!obs) return delay;
    const end = expiresAt(obs, this.o.identity, leaseDurationMs);
    const now = this.o.clock.now();
    if (end !== undefined && end > now) return Math.min(delay, end - now + EXPIRY_SLACK_MS);
    return this.wants() ? 0 : delay;
  }

  private async acquire(): Promise<void> {
    const sentAt = this.o.clock.now();
    if ((await this.tryAcquireOrRenew(sentAt)) !== 'ours') return;
    // Held from here, even if stopping: stop() releases it right after this try.
    this.state = 'fencing';
    this.acquisition++;
    this.renewed(sentAt);
    if (!this.stopped) this.raiseFence();
  }

  private async renew(): Promise<void> {
    const sentAt = this.o.clock.now();
    const result = await this.tryAcquireOrRenew(sentAt);
    if (this.state === 'standby') return; // the term ended meanwhile (watch, deadline): a new one starts by acquiring
    if (result === 'ours') {
      this.renewed(sentAt);
      if (this.state === 'fencing' && !this.raising && !this.stopped) this.raiseFence();
    } else if (result === 'other') {
      this.lose(`another holder was seen: ${this.observed?.record.holderIdentity || '(released)'}`, false);
    } else if (this.overdue()) {
      this.lose('renew deadline passed', false);
    }
  }

  /** A renewal was sent at `sentAt` and succeeded: the term is good until the renew deadline after it. */
  private renewed(sentAt: number): void {
    this.renewedAt = sentAt;
    this.cancelDeadline?.();
    // Ends the term on time even when a request hangs or the process was frozen.
    this.cancelDeadline = this.o.clock.setTimer(
      () => {
        if (this.state !== 'standby' && this.overdue()) this.lose('renew deadline passed', false);
      },
      this.renewedAt + this.o.timings.renewDeadlineMs - this.o.clock.now(),
    );
  }

  /** The fence makes the term: until PostgreSQL hands out a token, the Lease is held but nothing runs. */
  private raiseFence(): void {
    const acquisition = this.acquisition;
    this.raising = true;
    this.o.raiseFence(this.scope, this.o.timings.retryPeriodMs).then(
      (token) => {
        this.raising = false;
        // Lost, stopped or overdue meanwhile: this token is never used (the next term raises again).
        if (this.stopped || this.state !== 'fencing' || this.acquisition !== acquisition || this.overdue())
          return;
        this.token = token;
        this.current = this.termOf(token);
        this.state = 'leading';
        this.fenceWarned = false;
        this.log.info('acquired leadership', { token, identity: this.o.identity });
        this.o.onAcquired?.(this.scope, token);
      },
      (err: unknown) => {
        this.raising = false; // the next renewal tries again
        if (!this.fenceWarned)
          this.log.warn(
            'holding the lease but cannot raise the fence: not leading until PostgreSQL answers',
            {
              error: (err as Error).message,
            },
          );
        this.fenceWarned = true;
      },
    );
  }

  private lose(reason: string, released: boolean): void {
    const wasLeading = this.state === 'leading';
    const token = this.token;
    this.state = 'standby';
    this.token = undefined;
    this.current = undefined;
    this.acquisition++;
    this.cancelDeadline?.();
    if (!wasLeading) return;
    this.log.info(released ? 'released leadership' : 'lost leadership', { token, reason });
    this.o.onLost?.(this.scope, reason, released);
  }

  private see(lease: LeaseObject | undefined): void {
    if (!lease) {
      this.observed = undefined;
      this.resourceVersion = undefined;
      return;
    }
    const record = recordOf(lease);
    if (!sameRecord(record, this.observed?.record)) this.observed = { record, seenAt: this.o.clock.now() };
    this.resourceVersion = lease.metadata.resourceVersion;
  }

  private lease(record: ReturnType<typeof nextRecord>): LeaseObject {
    return leaseObject(this.scope, this.o.namespace, record, this.o.labels, this.resourceVersion);
  }

  private async tryAcquireOrRenew(now: number): Promise<TryResult> {
    const { identity, timings, leases } = this.o;
    const holding = this.state !== 'standby';
    // Fast path (client-go does the same): a holder updates with the version it wrote last.
    if (holding && this.resourceVersion && this.observed?.record.holderIdentity === identity) {
      try {
        this.see(
          await leases.update(
            this.lease(nextRecord(this.observed.record, identity, true, now, timings.leaseDurationMs)),
          ),
        );
        return 'ours';
      } catch (err) {
        if (!isConflict(err)) return this.failed(err);
      }
    }
    let current: LeaseObject | undefined;
    try {
      current = await leases.get(this.scope);
    } catch (err) {
      return this.failed(err);
    }
    if (!current) {
      try {
        this.resourceVersion = undefined;
        this.see(
          await leases.create(
            this.lease(nextRecord(undefined, identity, false, now, timings.leaseDurationMs)),
          ),
        );
        return 'ours';
      } catch (err) {
        return this.failed(err);
      }
    }
    this.see(current);
    const observed = this.observed!;
    if (holding && observed.record.holderIdentity !== identity) return 'other';
    if (!mayTake(observed, identity, this.o.clock.now(), timings.leaseDurationMs)) return 'other';
    try {
      this.see(
        await leases.update(
          this.lease(nextRecord(observed.record, identity, holding, now, timings.leaseDurationMs)),
        ),
      );
      return 'ours';
    } catch (err) {
      return this.failed(err);
    }
  }

  private failed(err: unknown): TryResult {
    if (!isConflict(err) && !isAlreadyExistsErr(err))
      this.log.debug('lease request failed', { error: (err as Error).message });
    return 'error';
  }
}

function isConflict(err: unknown): boolean {
  return isApiStatusError(err) && err.code === 409;
}

function isAlreadyExistsErr(err: unknown): boolean {
  return isApiStatusError(err) && err.reason === 'AlreadyExists';
}
