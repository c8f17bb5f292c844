/**
 * The seam between the engine and leader election: which keys this replica may reconcile now,
 * and the term (scope + fencing token) a reconcile carries. Two implementations: elected
 * (Leases, buckets, Redis; elected-leadership.ts) and a single replica that holds every scope
 * (`--leader-elect=false`, and the engine's in-process tests).
 */
import type { Buckets } from './buckets.js';
import { NotLeaderError } from './errors.js';
import type { Term } from './term.js';

export interface ScopeState {
  readonly scope: string;
  readonly bucket: number;
  /** Whether this replica leads it (holds the Lease and a fencing token). */
  readonly leading: boolean;
  readonly token?: number;
  /** The holder this replica last saw ('' when free). */
  readonly holder: string;
}

export interface LeadershipChange {
  readonly bucket: number;
  readonly scope: string;
  readonly held: boolean;
}

export interface Leadership {
  /** This replica's identity (POD_NAME, else hostname + random suffix). */
  readonly identity: string;
  readonly buckets: Buckets;
  /** Takes part in the election; resolves once this replica knows the current holders. */
  start(): Promise<void>;
  /** Stops leading and hands back every Lease it holds, so a standby takes over at once. */
  stop(): Promise<void>;
  /** The term of the key's scope while this replica leads it. */
  termFor(key: string): Term | undefined;
  /** Called on every gain and loss of a scope. */
  onChange(listener: (change: LeadershipChange) => void): void;
  scopes(): ScopeState[];
  /** Readiness details: what is held, and how the election runs (e.g. Redis degraded). */
  details(): Record<string, unknown>;
}

/** Every scope, always: one replica, no election. Fences are raised at start like any new leader's. */
export class SingleReplicaLeadership implements Leadership {
  readonly identity: string;
  private readonly tokens = new Map<string, number>();
  private readonly fenced = new Set<string>();

  constructor(
    readonly buckets: Buckets,
    private readonly raiseFence: (scope: string) => Promise<number>,
    identity = 'single-replica',
  ) {
    this.identity = identity;
  }

  async start(): Promise<void> {
    for (const scope of this.buckets.names) this.tokens.set(scope, await this.raiseFence(scope));
  }

  stop(): Promise<void> {
    this.tokens.clear();
    return Promise.resolve();
  }

  termFor(key: string): Term | undefined {
    const scope = this.buckets.scopeOf(key);
    const token = this.tokens.get(scope);
    if (token === undefined || this.fenced.has(scope)) return undefined;
    return {
      scope,
      fencing: { fence: scope, token },
      assertMayWrite: () => {
        if (this.fenced.has(scope)) throw new NotLeaderError(scope, 'fenced off by a newer writer');
      },
      // Another controller raised the fence: it runs now; this one keeps out of that scope.
      revoke: () => this.fenced.add(scope),
    };
  }

  onChange(): void {}

  scopes(): ScopeState[] {
    return this.buckets.names.map((scope, bucket) => ({
      scope,
      bucket,
      leading: this.tokens.has(scope) && !this.fenced.has(scope),
      token: this.tokens.get(scope),
      holder: this.identity,
    }));
  }

  details(): Record<string, unknown> {
    return {
      mode: 'single-replica',
      held: this.scopes()
        .filter((s) => s.leading)
        .map((s) => s.scope),
    };
  }
}
