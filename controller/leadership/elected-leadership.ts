/**
 * Leader election across replicas: one LeaseElector per bucket, a watch on the election Leases
 * (so a release or expiry is acted on at once), membership heartbeats, and a balancer that keeps
 * every replica at its fair share of buckets. Redis, when configured, announces releases and
 * publishes holders; it is never needed for safety.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ClusterAccess } from '../kube/cluster-access.js';
import type { Registry } from 'prom-client';
import type { KubeClient } from '../apply/kube-client.js';
import type { CancelTimer, Clock } from '../clock.js';
import { Informer } from '../kube/informer.js';
import type { Logger } from '../log.js';
import type { Buckets } from './buckets.js';
import { leaseApi } from './lease-api.js';
import { LeaseElector } from './lease-elector.js';
import type { LeaseObject } from './lease-record.js';
import type { Leadership, LeadershipChange, ScopeState } from './leadership.js';
import { Membership } from './membership.js';
import { leadershipMetrics, type LeadershipMetrics } from './metrics.js';
import type { RedisLink } from './redis-link.js';
import { shareOf, surplus } from './shares.js';
import type { Term } from './term.js';
import type { ElectionTimings } from './timings.js';

/** Label on every Lease of the election: `bucket` or `member`. */
export const ELECTION_LABEL = 'flexcore.io/election';

export interface ElectedLeadershipOptions {
  readonly identity: string;
  readonly namespace: string;
  readonly buckets: Buckets;
  readonly timings: ElectionTimings;
  readonly kubeConfig: ClusterAccess;
  /** A client of its own, so renewals never wait behind the engine's rate limit. */
  readonly kube: KubeClient;
  readonly raiseFence: (scope: string, lockTimeoutMs: number) => Promise<number>;
  readonly redis?: RedisLink;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly random?: () => number;
}

export class ElectedLeadership implements Leadership {
  readonly identity: string;
  readonly buckets: Buckets;
  private readonly electors: LeaseElector[];
  private readonly byScope: Map<string, LeaseElector>;
  private readonly leases: Informer<LeaseObject & KubernetesObject>;
  private readonly membership: Membership;
  private readonly listeners: ((c: LeadershipChange) => void)[] = [];
  private readonly metrics: LeadershipMetrics;
  private readonly log: Logger;
  private balanceTimer: CancelTimer | undefined;
  /** The heartbeat in flight, if any. */
  private beat: Promise<void> | undefined;
  /** When each scope led now was acquired. */
  private readonly since = new Map<string, string>();
  private stopped = false;

  constructor(private readonly o: ElectedLeadershipOptions) {
    this.identity = o.identity;
    this.buckets = o.buckets;
    this.log = o.logger.child({ component: 'leader-election', identity: o.identity });
    this.metrics = leadershipMetrics(o.registry);
    const api = leaseApi(o.kube, o.namespace);
    this.electors = o.buckets.names.map(
      (scope) =>
        new LeaseElector({
          scope,
          namespace: o.namespace,
          identity: o.identity,
          labels: { [ELECTION_LABEL]: 'bucket' },
          timings: o.timings,
          leases: api,
          raiseFence: o.raiseFence,
          clock: o.clock,
          logger: this.log,
          random: o.random,
          shouldContend: (s) => this.shouldContend(s),
          onAcquired: (s, token) => this.acquired(s, token),
          onLost: (s, reason, released) => this.lost(s, reason, released),
          onReleased: (s) => void this.o.redis?.announce({ scope: s, by: this.identity, event: 'released' }),
        }),
    );
    this.byScope = new Map(this.electors.map((e) => [e.scope, e]));
    this.membership = new Membership({
      identity: o.identity,
      namespace: o.namespace,
      labels: { [ELECTION_LABEL]: 'member' },
      timings: o.timings,
      leases: api,
      redis: o.redis,
      clock: o.clock,
      logger: this.log,
    });
    this.leases = new Informer<LeaseObject & KubernetesObject>({
      kubeConfig: o.kubeConfig,
      path: `/apis/coordination.k8s.io/v1/namespaces/${o.namespace}/leases`,
      labelSelector: ELECTION_LABEL,
      logger: this.log,
      clock: o.clock,
      resyncMs: 0,
    });
    const seen = (l: LeaseObject): void => this.seen(l.metadata.name, l);
    this.leases
      .onAdd(seen)
      .onUpdate((_, l) => seen(l))
      .onDelete((l) => this.seen(l.metadata.name, undefined));
    o.redis?.onAnnouncement((a) => {
      if (a.by === this.identity) return;
      if (a.event === 'leaving') this.membership.forget(a.by);
      else this.byScope.get(a.scope)?.poke();
    });
    for (const scope of o.buckets.names) this.metrics.masterStatus.set({ name: scope }, 0);
  }

  async start(): Promise<void> {
    await this.o.redis?.start();
    await this.leases.start();
    await this.membership.heartbeat();
    this.balance();
    for (const e of this.electors) e.start();
    this.log.info('leader election started', {
      namespace: this.o.namespace,
      buckets: this.buckets.count,
      redis: this.o.redis ? (this.o.redis.up ? 'up' : 'degraded') : 'off',
    });
  }

  /**
   * Leaves the membership first (so the others' fair shares already count without this replica),
   * then releases every Lease held (each announced), then stops watching.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.balanceTimer?.();
    await this.beat; // a heartbeat in flight must not land after leaving
    await this.o.redis?.announce({ scope: '', by: this.identity, event: 'leaving' });
    await this.membership.leave();
    await Promise.all(this.electors.map((e) => e.stop(true)));
    await this.leases.stop();
    this.o.redis?.stop();
  }

  termFor(key: string): Term | undefined {
    return this.electors[this.buckets.of(key)]!.term();
  }

  onChange(listener: (change: LeadershipChange) => void): void {
    this.listeners.push(listener);
  }

  scopes(): ScopeState[] {
    return this.electors.map((e, bucket) => ({
      scope: e.scope,
      bucket,
      leading: e.status === 'leading',
      token: e.fencingToken,
      holder: e.holder().identity,
    }));
  }

  details(): Record<string, unknown> {
    return {
      mode: 'elected',
      identity: this.identity,
      held: this.scopes()
        .filter((s) => s.leading)
        .map((s) => s.scope),
      members: this.membership.live().length,
      redis: this.o.redis ? (this.o.redis.up ? 'up' : 'degraded') : 'off',
    };
  }

  private seen(name: string, lease: LeaseObject | undefined): void {
    const elector = this.byScope.get(name);
    if (elector) elector.observe(lease);
    else if (lease?.metadata.labels?.[ELECTION_LABEL] === 'member' || !lease)
      this.membership.observe(name, lease);
  }

  /** Live replicas: members, less any whose bucket Lease expired (a live one renews them all). */
  private liveMembers(): string[] {
    const expired = new Set(
      this.electors
        .map((e) => e.holder())
        .filter((h) => !h.live && h.identity !== '')
        .map((h) => h.identity),
    );
    return this.membership.live().filter((m) => m === this.identity || !expired.has(m));
  }

  /** This replica's fair share now, from live members and live holdings. */
  private share(): number {
    const holdings = new Map<string, number>();
    for (const e of this.electors) {
      const h = e.holder();
      if (h.live) holdings.set(h.identity, (holdings.get(h.identity) ?? 0) + 1);
    }
    return shareOf(this.identity, this.liveMembers(), holdings, this.buckets.count);
  }

  /**
   * Whether to take a free Lease: while below the fair share, or when nobody took it for two
   * retry periods (views of membership may differ for a moment; no bucket is left orphaned).
   */
  private shouldContend(scope: string): boolean {
    if (this.stopped) return false;
    const held = this.electors.filter((e) => e.holds()).length;
    if (held < this.share()) return true;
    const h = this.byScope.get(scope)!.holder();
    return (
      !h.live &&
      h.freeSince !== undefined &&
      this.o.clock.now() - h.freeSince > 2 * this.o.timings.retryPeriodMs
    );
  }

  /** Every retry period: heartbeat, hand back the surplus over the fair share (announced), publish holders. */
  private balance(): void {
    if (this.stopped) return;
    const held = this.electors.flatMap((e, i) => (e.holds() ? [i] : []));
    for (const i of surplus(held, this.share()))
      void this.electors[i]!.release('rebalancing to the fair share');
    void this.publishHolders();
    this.balanceTimer = this.o.clock.setTimer(() => {
      this.beat = this.membership
        .heartbeat()
        .catch((err: unknown) =>
          this.log.warn('membership heartbeat failed', { error: (err as Error).message }),
        )
        .finally(() => this.balance());
    }, this.o.timings.retryPeriodMs);
  }

  /**
   * Redis may have come back empty, and a replica that crashed or stepped down leaves its entry:
   * every period each replica writes the scopes it leads and deletes entries naming it for
   * scopes it no longer leads. (The Lease stays the truth; this is for the status API.)
   */
  private async publishHolders(): Promise<void> {
    const redis = this.o.redis;
    if (!redis?.up) return;
    const published = (await redis.holders()) ?? {};
    for (const e of this.electors) {
      if (e.status === 'leading') this.publish(e.scope, e.fencingToken!);
      else if (published[e.scope]?.identity === this.identity) await redis.publishHolder(e.scope, undefined);
    }
  }

  private acquired(scope: string, token: number): void {
    const bucket = this.buckets.names.indexOf(scope);
    this.metrics.masterStatus.set({ name: scope }, 1);
    this.metrics.token.set({ name: scope }, token);
    this.metrics.transitions.inc({ name: scope, event: 'acquired' });
    this.since.set(scope, new Date(this.o.clock.now()).toISOString());
    this.publish(scope, token);
    for (const l of this.listeners) l({ bucket, scope, held: true });
  }

  private publish(scope: string, token: number): void {
    const since = this.since.get(scope) ?? '';
    if (this.o.redis?.up) void this.o.redis.publishHolder(scope, { identity: this.identity, token, since });
  }

  private lost(scope: string, reason: string, released: boolean): void {
    const bucket = this.buckets.names.indexOf(scope);
    this.metrics.masterStatus.set({ name: scope }, 0);
    this.metrics.token.set({ name: scope }, 0);
    this.metrics.transitions.inc({ name: scope, event: released ? 'released' : 'lost' });
    for (const l of this.listeners) l({ bucket, scope, held: false });
    if (released) void this.o.redis?.publishHolder(scope, undefined);
    this.log.debug('scope left', { scope, reason });
  }
}
