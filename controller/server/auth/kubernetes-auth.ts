/**
 * Authentication and authorization by Kubernetes itself: a bearer token is checked with a
 * TokenReview, then each request with a SubjectAccessReview asked as that user (username, uid,
 * groups and extra exactly as the apiserver reported them), so RBAC decides — the same rules
 * `kubectl` meets. Decisions are cached: allowed ones for `allowTtlMs` (~60 s), refusals and
 * bad tokens for `denyTtlMs`, so a new RoleBinding takes effect quickly.
 */
import { createHash } from 'node:crypto';
import { systemClock, type Clock } from '../../clock.js';
import { ApiProblem, unauthorized } from '../problem.js';
import type { Access, ApiAuth, Caller } from './access.js';
import { TtlCache } from './ttl-cache.js';

/** The one call this needs of a Kubernetes client. */
export interface ReviewClient {
  create<T>(path: string, body: unknown): Promise<T>;
}

export interface KubernetesAuthOptions {
  readonly allowTtlMs?: number;
  readonly denyTtlMs?: number;
  readonly clock?: Pick<Clock, 'now'>;
  /** Counts decisions by `kind` (token, access) and `result` (hit, allowed, denied, error). */
  readonly onDecision?: (kind: 'token' | 'access', cached: boolean, result: string) => void;
}

interface TokenReviewStatus {
  authenticated?: boolean;
  error?: string;
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
}

type TokenResult = { caller: Caller } | { error: string };

const GROUP = 'flexcore.io';

function apiserverUnreachable(what: string, err: unknown): ApiProblem {
  return new ApiProblem(
    503,
    'apiserver-unavailable',
    `cannot ${what}: the Kubernetes API did not answer (${(err as Error).message})`,
    {},
    { 'Retry-After': '5' },
  );
}

function bearerToken(authorization: string | undefined): string {
  if (!authorization) throw unauthorized('no bearer token: send "Authorization: Bearer <token>"');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!m) throw unauthorized('the Authorization header is not "Bearer <token>"');
  return m[1]!;
}

export class KubernetesAuth implements ApiAuth {
  readonly mode = 'kubernetes' as const;
  private readonly tokens: TtlCache<TokenResult>;
  private readonly decisions: TtlCache<boolean>;
  private readonly allowTtlMs: number;
  private readonly denyTtlMs: number;

  constructor(
    private readonly kube: ReviewClient,
    private readonly options: KubernetesAuthOptions = {},
  ) {
    const clock = options.clock ?? systemClock;
    this.tokens = new TtlCache(clock);
    this.decisions = new TtlCache(clock);
    this.allowTtlMs = options.allowTtlMs ?? 60_000;
    this.denyTtlMs = options.denyTtlMs ?? 10_000;
  }

  async authenticate(authorization: string | undefined): Promise<Caller> {
    const token = bearerToken(authorization);
    // Keyed by a hash: the cache never holds a usable token.
    const key = createHash('sha256').update(token).digest('base64');
    let loaded = false;
    const result = await this.tokens.get(
      key,
      () => {
        loaded = true;
        return this.review(token);
      },
      (r) => ('caller' in r ? this.allowTtlMs : this.denyTtlMs),
    );
    this.options.onDecision?.('token', !loaded, 'caller' in result ? 'allowed' : 'denied');
    if ('error' in result) throw unauthorized(result.error);
    return result.caller;
  }

  private async review(token: string): Promise<TokenResult> {
    let status: TokenReviewStatus | undefined;
    try {
      ({ status } = await this.kube.create<{ status?: TokenReviewStatus }>(
        '/apis/authentication.k8s.io/v1/tokenreviews',
        { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
      ));
    } catch (err) {
      this.options.onDecision?.('token', false, 'error');
      throw apiserverUnreachable("check the caller's token", err);
    }
    if (!status?.authenticated || !status.user?.username)
      return {
        error: 'the bearer token was not accepted by the Kubernetes API (expired, revoked or unknown)',
      };
    const u = status.user;
    return {
      caller: { username: u.username!, uid: u.uid, groups: u.groups ?? [], extra: u.extra ?? {} },
    };
  }

  async allowed(caller: Caller, access: Access): Promise<boolean> {
    const key = JSON.stringify([caller.username, caller.uid, caller.groups, caller.extra, access]);
    let loaded = false;
    const allowed = await this.decisions.get(
      key,
      () => {
        loaded = true;
        return this.accessReview(caller, access);
      },
      (ok) => (ok ? this.allowTtlMs : this.denyTtlMs),
    );
    this.options.onDecision?.('access', !loaded, allowed ? 'allowed' : 'denied');
    return allowed;
  }

  private async accessReview(caller: Caller, access: Access): Promise<boolean> {
    const spec = {
      user: caller.username,
      ...(caller.uid && { uid: caller.uid }),
      groups: caller.groups,
      extra: caller.extra,
      resourceAttributes: {
        group: GROUP,
        resource: access.resource,
        verb: access.verb,
        ...(access.subresource && { subresource: access.subresource }),
        ...(access.namespace !== undefined && { namespace: access.namespace }),
        ...(access.name && { name: access.name }),
      },
    };
    try {
      const review = await this.kube.create<{ status?: { allowed?: boolean; denied?: boolean } }>(
        '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec },
      );
      return review.status?.allowed === true && review.status.denied !== true;
    } catch (err) {
      this.options.onDecision?.('access', false, 'error');
      throw apiserverUnreachable('check what the caller may do', err);
    }
  }
}
