/**
 * Which replicas are alive, for sharing buckets. With Redis: a key per replica with a TTL of one
 * lease duration, refreshed every retry period. Without Redis, or while it is away: one Lease per
 * replica (`flexcore-member-<identity>`), live while it is seen to change within a lease duration
 * by the LOCAL clock, like the election Leases. Leases of replicas gone for long are deleted.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import { isNewerOrUnknown } from '../kube/resource-version.js';
import type { Logger } from '../log.js';
import type { LeaseApi } from './lease-api.js';
import {
  leaseObject,
  microTime,
  recordOf,
  sameRecord,
  type LeaseObject,
  type Observation,
} from './lease-record.js';
import type { RedisLink } from './redis-link.js';
import type { ElectionTimings } from './timings.js';

export const MEMBER_PREFIX = 'flexcore-member-';

/** Member Leases not seen to change for this many lease durations are deleted. */
const FORGET_AFTER_LEASES = 8;

/** A Lease name for an identity: readable when it is a DNS label, hashed otherwise. */
export function memberLeaseName(identity: string): string {
  const slug = identity
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '');
  const hash = createHash('sha256').update(identity).digest('hex').slice(0, 8);
  return `${MEMBER_PREFIX}${slug.slice(0, 63 - MEMBER_PREFIX.length - 9)}-${hash}`;
}

export interface MembershipOptions {
  readonly identity: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
  readonly timings: ElectionTimings;
  readonly leases: LeaseApi;
  readonly redis?: RedisLink;
  readonly clock: Clock;
  readonly logger: Logger;
}

export class Membership {
  private readonly seen = new Map<string, Observation>();
  private readonly name: string;
  private fromRedis: string[] | undefined;
  private resourceVersion: string | undefined;
  private left = false;
  /** Replicas that announced their leaving, until when they are not counted. */
  private readonly departed = new Map<string, number>();

  constructor(private readonly o: MembershipOptions) {
    this.name = memberLeaseName(o.identity);
  }

  /** A member Lease from the watch (undefined `lease` = deleted). */
  observe(name: string, lease: LeaseObject | undefined): void {
    if (!lease) {
      this.seen.delete(name);
      return;
    }
    const record = recordOf(lease);
    if (!sameRecord(record, this.seen.get(name)?.record))
      this.seen.set(name, { record, seenAt: this.o.clock.now() });
    // A late watch event of our own Lease must not set an older version than our last write.
    if (name === this.name && isNewerOrUnknown(lease.metadata.resourceVersion, this.resourceVersion))
      this.resourceVersion = lease.metadata.resourceVersion;
  }

  /** Refreshes this replica's membership (every retry period). */
  async heartbeat(): Promise<void> {
    if (this.left) return;
    const { redis, identity, timings } = this.o;
    if (redis?.up && (await redis.heartbeat(identity, timings.leaseDurationMs))) {
      this.fromRedis = await redis.members();
      if (this.fromRedis) return;
    }
    this.fromRedis = undefined;
    await this.heartbeatLease();
    await this.forgetGone();
  }

  /** Live replicas, this one included, sorted. */
  live(): string[] {
    const now = this.o.clock.now();
    const fromLeases = [...this.seen.values()]
      .filter((x) => x.seenAt + this.o.timings.leaseDurationMs > now)
      .map((x) => x.record.holderIdentity)
      .filter(Boolean);
    const gone = (m: string): boolean => (this.departed.get(m) ?? 0) > now;
    const members = (this.fromRedis ?? fromLeases).filter((m) => !gone(m));
    return [...new Set([...members, this.o.identity])].sort();
  }

  /**
   * Drops a replica that announced it is leaving, for a lease duration: a heartbeat read just
   * before it left must not bring it back while the others take over its buckets.
   */
  forget(identity: string): void {
    const now = this.o.clock.now();
    for (const [m, until] of this.departed) if (until <= now) this.departed.delete(m);
    this.departed.set(identity, now + this.o.timings.leaseDurationMs);
    for (const [name, obs] of this.seen) if (obs.record.holderIdentity === identity) this.seen.delete(name);
  }

  /** Leaves: the Redis key and the member Lease go, so the others rebalance at once. */
  async leave(): Promise<void> {
    this.left = true;
    await this.o.redis?.leave(this.o.identity);
    await this.o.leases.delete(this.name).catch(() => undefined);
  }

  private async heartbeatLease(): Promise<void> {
    const { leases, identity, namespace, labels, timings, clock } = this.o;
    const now = microTime(clock.now());
    const record = {
      holderIdentity: identity,
      leaseDurationSeconds: timings.leaseDurationMs / 1000,
      acquireTime: this.seen.get(this.name)?.record.acquireTime ?? now,
      renewTime: now,
      leaseTransitions: 0,
    };
    try {
      const body = leaseObject(this.name, namespace, record, labels, this.resourceVersion);
      const written = this.resourceVersion ? await leases.update(body) : await leases.create(body);
      this.observe(this.name, written);
    } catch (err) {
      this.o.logger.debug('member lease heartbeat failed', { error: (err as Error).message });
      this.resourceVersion = (await leases.get(this.name).catch(() => undefined))?.metadata.resourceVersion;
    }
  }

  private async forgetGone(): Promise<void> {
    const limit = this.o.clock.now() - FORGET_AFTER_LEASES * this.o.timings.leaseDurationMs;
    for (const [name, obs] of this.seen) {
      if (name !== this.name && obs.seenAt < limit) {
        this.seen.delete(name);
        await this.o.leases.delete(name).catch(() => undefined);
      }
    }
  }
}
