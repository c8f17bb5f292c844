/**
 * The domain events the projections understand. Data shapes are checked when an event of
 * one of these types is appended, so the projections never meet a malformed one. Events of
 * other types are stored and read back, but not projected.
 */
import { z } from 'zod';

const Timestamp = z.iso.datetime({ offset: true });
const RunRef = { runId: z.string().min(1), at: Timestamp.optional() };
const AttemptRef = { ...RunRef, step: z.string().min(1), attempt: z.int().min(1) };
/** A SHA-256 in hex: catalog keys and the digests of stored catalogs. */
const Digest = z.string().regex(/^[0-9a-f]{64}$/);

/** Largest log tail kept per attempt and container, in bytes (the projection also enforces it). */
export const MAX_LOG_TAIL_BYTES = 64 * 1024;

export const EventData = {
  RunStarted: z.object({
    ...RunRef,
    pipeline: z.object({ namespace: z.string().min(1), name: z.string().min(1) }),
    trigger: z.enum(['Generation', 'Manual', 'Schedule']),
    generation: z.int().optional(),
  }),
  RunFinished: z.object({
    ...RunRef,
    phase: z.enum(['Succeeded', 'Failed', 'Cancelled']),
    reason: z.string().optional(),
  }),
  StepAttemptScheduled: z.object({
    ...AttemptRef,
    pod: z.string().min(1),
    /** The final catalog the tap syncs with (stored in flexcore.catalog_blobs by digest). */
    catalog: z
      .object({
        digest: Digest,
        bytes: z.int().min(0),
        flag: z.enum(['--catalog', '--properties']),
        selectedStreams: z.int().min(0),
      })
      .optional(),
  }),
  CatalogDiscoveryScheduled: z.object({
    ...AttemptRef,
    pod: z.string().min(1),
    catalogKey: Digest,
    /** The flexcore.io/rediscover value this discovery answers, when it was asked for. */
    rediscover: z.string().optional(),
  }),
  CatalogDiscovered: z.object({
    ...AttemptRef,
    catalogKey: Digest,
    digest: Digest,
    bytes: z.int().min(0),
    streams: z.int().min(0),
    plugin: z.string().min(1),
    image: z.string().min(1),
  }),
  StepAttemptStarted: z.object({ ...AttemptRef }),
  StepAttemptFinished: z.object({
    ...AttemptRef,
    phase: z.enum(['Succeeded', 'Failed', 'TimedOut', 'Cancelled']),
    exitCode: z.int().optional(),
    reason: z.string().optional(),
    message: z.string().max(1024).optional(),
  }),
  StepSkipped: z.object({ ...RunRef, step: z.string().min(1), reason: z.string().optional() }),
  SingerStateCaptured: z.object({
    ...AttemptRef,
    stateId: z.string().min(1),
    state: z.record(z.string(), z.unknown()),
    partial: z.boolean(),
  }),
  /** A person set a state id's bookmark through the API: the next run's tap starts from it. */
  SingerStateSet: z.object({
    stateId: z.string().min(1),
    state: z.record(z.string(), z.unknown()),
    requestedBy: z.string(),
    at: Timestamp,
  }),
  /** A person cleared a state id's bookmark: the next run's tap starts from nothing. */
  SingerStateCleared: z.object({
    stateId: z.string().min(1),
    requestedBy: z.string(),
    at: Timestamp,
  }),
  /** Records by stream from a Singer plugin's METRIC lines (stored, not projected). */
  SingerRecordsCounted: z.object({
    ...AttemptRef,
    container: z.string().min(1),
    streams: z.record(z.string().min(1).max(253), z.int().min(0)),
    truncated: z.boolean(),
  }),
  LogTailCaptured: z.object({
    ...AttemptRef,
    container: z.string().min(1),
    tail: z
      .string()
      .refine((t) => Buffer.byteLength(t) <= MAX_LOG_TAIL_BYTES, `at most ${MAX_LOG_TAIL_BYTES} bytes`),
    truncated: z.boolean(),
  }),
} as const;

export type ProjectedType = keyof typeof EventData;
export type EventDataOf<T extends ProjectedType> = z.infer<(typeof EventData)[T]>;

export function isProjectedType(type: string): type is ProjectedType {
  return Object.hasOwn(EventData, type);
}

/** Keeps the last `MAX_LOG_TAIL_BYTES` bytes of a log, on a character boundary. */
export function boundLogTail(text: string): { tail: string; truncated: boolean } {
  // PostgreSQL's jsonb cannot hold NUL: a log with one would never be recorded.
  const log = text.replaceAll('\u0000', '\ufffd');
  const bytes = Buffer.from(log);
  if (bytes.length <= MAX_LOG_TAIL_BYTES) return { tail: log, truncated: false };
  let start = bytes.length - MAX_LOG_TAIL_BYTES;
  while (start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++; // skip continuation bytes
  return { tail: bytes.subarray(start).toString(), truncated: true };
}
