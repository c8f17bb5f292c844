/**
 * Work split into B buckets (knative's pkg/leaderelection): a key `namespace/name` belongs to
 * bucket FNV-1a-64(key) mod B, stable across replicas and restarts; each bucket is a scope with
 * its own Lease and its own fence.
 */
import { ElectionConfigError } from './errors.js';

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK = (1n << 64n) - 1n;

/** FNV-1a, 64 bits, over the UTF-8 bytes of `text`. */
export function fnv1a64(text: string): bigint {
  let h = FNV_OFFSET;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= BigInt(byte);
    h = (h * FNV_PRIME) & MASK;
  }
  return h;
}

/** The scopes (Leases and fences) of one election: `<prefix>-<i>-of-<B>`. */
export class Buckets {
  readonly names: readonly string[];

  constructor(
    readonly count: number,
    readonly prefix = 'flexcore-engine',
  ) {
    if (!Number.isInteger(count) || count < 1 || count > 256)
      throw new ElectionConfigError(`buckets must be an integer from 1 to 256, got ${String(count)}`);
    this.names = Array.from({ length: count }, (_, i) => `${prefix}-${i}-of-${count}`);
  }

  /** The bucket of a key. */
  of(key: string): number {
    return Number(fnv1a64(key) % BigInt(this.count));
  }

  /** The scope name of a key's bucket. */
  scopeOf(key: string): string {
    return this.names[this.of(key)]!;
  }
}
