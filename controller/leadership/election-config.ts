/**
 * Leader-election settings from flags and environment (flags win), checked in one place so a
 * bad value is one clear error line at start, never a crash loop without a message.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Buckets } from './buckets.js';
import { ElectionConfigError } from './errors.js';
import { parseDuration } from '../duration.js';
import { firstWatchNamespace } from '../watch-namespaces.js';
import { checkTimings, DEFAULT_TIMINGS, type ElectionTimings } from './timings.js';

export interface ElectionConfig {
  /** false: one replica, no election (local runs). */
  readonly leaderElect: boolean;
  readonly namespace: string;
  readonly identity: string;
  readonly timings: ElectionTimings;
  readonly buckets: Buckets;
  /** Redis for announcements, membership and published holders; Leases alone when unset. */
  readonly redisUrl?: string;
}

/** The service account's namespace inside a Pod. */
const SA_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export const ELECTION_FLAGS: Record<string, string> = {
  'leader-elect': 'LEADER_ELECT',
  'leader-election-namespace': 'LEADER_ELECTION_NAMESPACE',
  'leader-election-lease-duration': 'LEADER_ELECTION_LEASE_DURATION',
  'leader-election-renew-deadline': 'LEADER_ELECTION_RENEW_DEADLINE',
  'leader-election-retry-period': 'LEADER_ELECTION_RETRY_PERIOD',
  buckets: 'FLEXCORE_BUCKETS',
};

/** `--name=value` and `--name value` flags among `args` (election flags and `otherFlags`), as the env variables they override. */
export function flagsAsEnv(
  args: readonly string[],
  otherFlags: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  const flags = { ...ELECTION_FLAGS, ...otherFlags };
  for (let i = 0; i < args.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(args[i]!);
    if (!m) throw new ElectionConfigError(`unexpected argument "${args[i]}"`);
    const env = flags[m[1]!];
    if (!env) throw new ElectionConfigError(`unknown flag --${m[1]}`);
    let value = m[2];
    if (value === undefined) {
      const next = args[i + 1];
      if (m[1] === 'leader-elect' && (next === undefined || next.startsWith('--'))) value = 'true';
      else if (next === undefined) throw new ElectionConfigError(`--${m[1]} needs a value`);
      else value = args[++i]!;
    }
    out[env] = value;
  }
  return out;
}

function bool(raw: string | undefined, name: string, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (/^(true|1|yes)$/i.test(raw)) return true;
  if (/^(false|0|no)$/i.test(raw)) return false;
  throw new ElectionConfigError(`${name} must be true or false, got "${raw}"`);
}

function duration(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  return raw === undefined || raw === '' ? fallback : parseDuration(raw, name);
}

function defaultNamespace(env: NodeJS.ProcessEnv, readFile: (path: string) => string): string {
  if (env.POD_NAMESPACE) return env.POD_NAMESPACE;
  try {
    return readFile(SA_NAMESPACE).trim();
  } catch {
    // With several watched namespaces the Leases live in the first.
    return firstWatchNamespace(env) ?? 'default';
  }
}

/** The election settings; throws ElectionConfigError naming the first bad value (WatchNamespaceError for WATCH_NAMESPACE). */
export function electionConfig(
  env: NodeJS.ProcessEnv,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): ElectionConfig {
  const timings = checkTimings({
    leaseDurationMs: duration(env, 'LEADER_ELECTION_LEASE_DURATION', DEFAULT_TIMINGS.leaseDurationMs),
    renewDeadlineMs: duration(env, 'LEADER_ELECTION_RENEW_DEADLINE', DEFAULT_TIMINGS.renewDeadlineMs),
    retryPeriodMs: duration(env, 'LEADER_ELECTION_RETRY_PERIOD', DEFAULT_TIMINGS.retryPeriodMs),
  });
  const rawBuckets = env.FLEXCORE_BUCKETS ?? '1';
  if (!/^\d+$/.test(rawBuckets.trim()))
    throw new ElectionConfigError(`FLEXCORE_BUCKETS must be an integer from 1 to 256, got "${rawBuckets}"`);
  const buckets = new Buckets(Number(rawBuckets));
  const namespace = env.LEADER_ELECTION_NAMESPACE || defaultNamespace(env, readFile);
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) || namespace.length > 63)
    throw new ElectionConfigError(`leader election namespace "${namespace}" is not a valid namespace name`);
  const identity = env.POD_NAME || `${hostname()}-${randomBytes(3).toString('hex')}`;
  if (identity.length > 253) throw new ElectionConfigError('POD_NAME is longer than 253 characters');
  const redisUrl = env.REDIS_URL || undefined;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl))
    throw new ElectionConfigError('REDIS_URL must start with redis:// or rediss://');
  return {
    leaderElect: bool(env.LEADER_ELECT, 'LEADER_ELECT (--leader-elect)', true),
    namespace,
    identity,
    timings,
    buckets,
    redisUrl,
  };
}
