/** Events as written by callers and as read back from the store. */

/** An event to append. The id is deterministic: derived by the caller from what the event means. */
export interface NewEvent {
  readonly id: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata?: Record<string, unknown>;
}

/** An event as recorded. */
export interface RecordedEvent {
  /** Global position (insertion order); unique and increasing, with gaps possible. */
  readonly position: number;
  readonly streamId: string;
  /** 0 for the first event of a stream. */
  readonly streamVersion: number;
  readonly id: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
  readonly fence: string;
  readonly fencingToken: number;
  readonly recordedAt: Date;
  /** The writing transaction's id (xid8), as a decimal string. */
  readonly txId: string;
}

/** Row shape of flexcore.events as the store's queries select it. */
export interface EventRow extends Record<string, unknown> {
  position: string;
  stream_id: string;
  stream_version: string;
  event_id: string;
  type: string;
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  fence: string;
  fencing_token: string;
  recorded_at: Date;
  tx_id: string;
}

export function fromRow(row: EventRow): RecordedEvent {
  return {
    position: Number(row.position),
    streamId: row.stream_id,
    streamVersion: Number(row.stream_version),
    id: row.event_id,
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    fence: row.fence,
    fencingToken: Number(row.fencing_token),
    recordedAt: row.recorded_at,
    txId: row.tx_id,
  };
}
