/**
 * The event store: append-only streams of events in PostgreSQL with optimistic concurrency,
 * idempotent appends, fencing of deposed writers, read models updated in the same
 * transaction, and a global feed that never skips a late commit.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import {
  DuplicateBatchError,
  StaleFencingTokenError,
  StoreUnavailableError,
  WrongExpectedVersionError,
  classify,
} from './errors.js';
import { checkEventData } from './projector.js';
import { isProjectedType } from './event-types.js';
import { fromRow, type EventRow, type NewEvent, type RecordedEvent } from './recorded-event.js';
import { FEED_START, type FeedCursor } from './cursor.js';
import type { StoreMetrics } from './metrics.js';
import { prepared } from './sql.js';

/** What the caller expects of the stream: `any`, `no_stream`, `exists`, or the exact version. */
export type ExpectedVersion = 'any' | 'no_stream' | 'exists' | number;

/** The writer's fencing token for one fence (leader-election scope). */
export interface Fencing {
  readonly fence: string;
  readonly token: number;
}

export interface AppendResult {
  /** Global positions of the events, in order. */
  readonly positions: number[];
  /** Stream version after the append: pass it as the next expected version. */
  readonly nextExpectedVersion: number;
  /** True when every event was already recorded, so nothing was written. */
  readonly duplicate: boolean;
}

const EXPECTED_CODE = { no_stream: -1, any: -2, exists: -3 } as const;

/** A UUID derived from what an event means (e.g. run id, step, attempt, transition), RFC 4122 v5 layout. */
export function deterministicEventId(...parts: (string | number)[]): string {
  const hash = createHash('sha1').update(parts.map(String).join('\u001f')).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function isEventIdConflict(err: unknown): boolean {
  return (err as { constraint?: string }).constraint === 'events_event_id_key';
}

interface AppendRow extends Record<string, unknown> {
  event_position: string;
  event_version: string;
  duplicate: boolean;
  event_recorded_at: Date;
  event_tx_id: string;
}

export class EventStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly metrics?: StoreMetrics,
  ) {}

  /**
   * Appends `events` to `stream` atomically, after checking the fence and the expected
   * version, and updates the read models in the same transaction.
   */
  async append(
    stream: string,
    expected: ExpectedVersion,
    events: NewEvent[],
    fencing: Fencing,
  ): Promise<AppendResult> {
    if (events.length === 0) throw new RangeError('append needs at least one event');
    for (const e of events) checkEventData(e.type, e.data);
    const expectedCode = typeof expected === 'number' ? expected : EXPECTED_CODE[expected];
    const params = [stream, expectedCode, JSON.stringify(events), fencing.fence, fencing.token];
    const stop = this.metrics?.appendDuration.startTimer();
    try {
      const rows = await this.write(events, params).catch(async (err: unknown) => {
        // An event id that is already recorded hit the unique index: two identical batches
        // racing (once more, it is a no-op) or a batch mixing old and new events (an error).
        if (!isEventIdConflict(err)) throw err;
        return this.write(events, params).catch((again: unknown) => {
          if (isEventIdConflict(again))
            throw new DuplicateBatchError('some events of this batch are already recorded');
          throw again;
        });
      });
      this.metrics?.appendedEvents.inc(rows[0]?.duplicate ? 0 : rows.length);
      return {
        positions: rows.map((r) => Number(r.event_position)),
        nextExpectedVersion: Number(rows[rows.length - 1]!.event_version),
        duplicate: rows[0]?.duplicate ?? false,
      };
    } catch (err) {
      throw this.translate(err, stream, expected);
    } finally {
      stop?.();
    }
  }

  /**
   * One statement, one round trip, its own transaction: the append, and with it the projections
   * of the events that have one (a PL/pgSQL loop that plain appends need not pay for).
   */
  private async write(events: NewEvent[], params: unknown[]): Promise<AppendRow[]> {
    const statement = events.some((e) => isProjectedType(e.type)) ? 'append-and-project' : 'append';
    return (await this.pool.query<AppendRow>(prepared(statement, params))).rows;
  }

  private translate(err: unknown, stream: string, expected: ExpectedVersion): unknown {
    const e = err as { code?: string; detail?: string; message?: string };
    switch (e.code) {
      case 'FC001': {
        const m = /stale fencing token (\d+) for fence (.*): newest is (\d+)/.exec(e.message ?? '');
        this.metrics?.fencingRejections.inc();
        return new StaleFencingTokenError(m?.[2] ?? '', Number(m?.[1]), Number(m?.[3] ?? e.detail));
      }
      case 'FC002':
        return new WrongExpectedVersionError(stream, String(expected), Number(e.detail));
      case 'FC003':
        return new DuplicateBatchError(e.message ?? 'partly duplicated batch');
      default:
        return classify(err);
    }
  }

  /** Events of one stream from `fromVersion` on, in version order. */
  async readStream(stream: string, fromVersion = 0, maxCount = 1000): Promise<RecordedEvent[]> {
    const { rows } = await this.query<EventRow>(prepared('read-stream', [stream, fromVersion, maxCount]));
    return rows.map(fromRow);
  }

  /**
   * The next events of the global feed after `cursor`, and the cursor to continue from.
   * Never skips an event whose transaction commits after a later one.
   */
  async readFeed(
    cursor: FeedCursor = FEED_START,
    limit = 500,
  ): Promise<{ events: RecordedEvent[]; next: FeedCursor }> {
    const { rows } = await this.query<EventRow>(prepared('read-feed', [cursor.txId, cursor.position, limit]));
    const events = rows.map(fromRow);
    const last = events[events.length - 1];
    return { events, next: last ? { txId: last.txId, position: last.position } : cursor };
  }

  /** The ids of the streams whose id starts with `prefix`, in id order. */
  async streamIds(prefix: string): Promise<string[]> {
    const { rows } = await this.query<{ stream_id: string }>({
      text: 'SELECT stream_id FROM flexcore.streams WHERE starts_with(stream_id, $1) ORDER BY stream_id',
      values: [prefix],
    });
    return rows.map((r) => r.stream_id);
  }

  /** The current version of a stream, or -1 when it has no events. */
  async streamVersion(stream: string): Promise<number> {
    const { rows } = await this.query<{ version: string }>({
      text: 'SELECT version FROM flexcore.streams WHERE stream_id = $1',
      values: [stream],
    });
    return rows[0] ? Number(rows[0].version) : -1;
  }

  /** True when PostgreSQL answers now. */
  async isAvailable(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /** Resolves once PostgreSQL answers; rejects with StoreUnavailableError after `timeoutMs`. */
  async waitUntilAvailable(timeoutMs = Infinity, intervalMs = 500): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await this.isAvailable())) {
      if (Date.now() >= deadline) throw new StoreUnavailableError(`not reachable within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }

  private async query<R extends Record<string, unknown>>(q: pg.QueryConfig): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(q);
    } catch (err) {
      throw classify(err);
    }
  }
}
