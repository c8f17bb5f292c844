/**
 * A leader-election record as a coordination.k8s.io/v1 Lease (client-go's LeaseLock), and the
 * pure rules of client-go's tryAcquireOrRenew: whether a Lease may be taken, and what record
 * the taker writes.
 */

export interface LeaseRecord {
  /** '' when released. */
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions: number;
}

/** The part of a V1Lease the elector reads and writes. */
export interface LeaseObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
  };
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number | null;
    acquireTime?: string | Date | null;
    renewTime?: string | Date | null;
    leaseTransitions?: number | null;
  };
}

/** Lease times are MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

const text = (t: string | Date | null | undefined): string | undefined =>
  t instanceof Date ? microTime(t.getTime()) : (t ?? undefined);

export function recordOf(lease: LeaseObject): LeaseRecord {
  const s = lease.spec ?? {};
  return {
    holderIdentity: s.holderIdentity ?? '',
    leaseDurationSeconds: s.leaseDurationSeconds ?? 0,
    acquireTime: text(s.acquireTime),
    renewTime: text(s.renewTime),
    leaseTransitions: s.leaseTransitions ?? 0,
  };
}

/** Two records are the same observation (client-go compares the raw record). */
export function sameRecord(a: LeaseRecord | undefined, b: LeaseRecord | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function leaseObject(
  name: string,
  namespace: string,
  record: LeaseRecord,
  labels: Record<string, string>,
  resourceVersion?: string,
): LeaseObject {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, labels, ...(resourceVersion && { resourceVersion }) },
    spec: { ...record, holderIdentity: record.holderIdentity || null },
  };
}

export interface Observation {
  readonly record: LeaseRecord;
  /** LOCAL time when this record was first seen: expiry is judged from it, never from renewTime. */
  readonly seenAt: number;
}

/** Whether `identity` may write the Lease now: it is free, ours, or not seen to change for a lease duration. */
export function mayTake(
  observed: Observation,
  identity: string,
  now: number,
  leaseDurationMs: number,
): boolean {
  const holder = observed.record.holderIdentity;
  return holder === '' || holder === identity || observed.seenAt + leaseDurationMs <= now;
}

/** When a Lease held by someone else expires by the local clock (undefined when free or ours). */
export function expiresAt(
  observed: Observation,
  identity: string,
  leaseDurationMs: number,
): number | undefined {
  const holder = observed.record.holderIdentity;
  if (holder === '' || holder === identity) return undefined;
  return observed.seenAt + leaseDurationMs;
}

/** The record a holder writes: a renewal keeps acquireTime and the count, a take-over starts a new term. */
export function nextRecord(
  old: LeaseRecord | undefined,
  identity: string,
  leading: boolean,
  now: number,
  leaseDurationMs: number,
): LeaseRecord {
  const renewTime = microTime(now);
  const base = { holderIdentity: identity, leaseDurationSeconds: leaseDurationMs / 1000, renewTime };
  if (!old) return { ...base, acquireTime: renewTime, leaseTransitions: 0 };
  if (leading && old.holderIdentity === identity)
    return { ...base, acquireTime: old.acquireTime ?? renewTime, leaseTransitions: old.leaseTransitions };
  return { ...base, acquireTime: renewTime, leaseTransitions: old.leaseTransitions + 1 };
}

/** The record a graceful leader leaves behind (client-go's release): no holder, so a standby takes it at once. */
export function releasedRecord(old: LeaseRecord, now: number): LeaseRecord {
  return {
    holderIdentity: '',
    leaseDurationSeconds: 1,
    acquireTime: microTime(now),
    renewTime: microTime(now),
    leaseTransitions: old.leaseTransitions,
  };
}
