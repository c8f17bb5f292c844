/**
 * One reader of the feed per replica for every live stream: it follows the feed (LISTEN wakes
 * it, polling guarantees it) and keeps the newest events in a ring, each serialized once. A
 * client whose cursor lies within the ring is served from it; one further back catches up from
 * the store first (stream-client.ts). The ring is contiguous in feed order, so a cursor from any
 * replica means the same place.
 */
import type { Logger } from '../../log.js';
import type { ApiQueries, FeedItem } from '../../store/api-queries.js';
import { compareCursors, type FeedCursor } from '../../store/cursor.js';
import { FeedSubscription } from '../../store/feed-subscription.js';
import { feedEventJson } from '../views/feed-view.js';

/** A feed event with its server-sent-events message, built once for every client. */
export interface HubEvent {
  readonly item: FeedItem;
  readonly cursor: FeedCursor;
  readonly message: string;
}

export interface FeedHubOptions {
  /** Events kept in memory for clients a little behind (10,000). */
  readonly ringSize?: number;
  readonly listenUrl?: string;
  readonly pollIntervalMs?: number;
  readonly logger: Logger;
  /** Told, per event read, how long after being recorded it was read (seconds). */
  readonly delay?: { observe(seconds: number): void };
}

/** `id:` = the feed cursor, so Last-Event-ID resumes exactly, on any replica. */
export function sseMessage(item: FeedItem): string {
  return `id: ${item.cursor}\nevent: ${item.type}\ndata: ${feedEventJson(item)}\n\n`;
}

export class FeedHub {
  private ring: HubEvent[] = [];
  /** Every event after this cursor, up to the head, is in the ring. */
  private ringStart: FeedCursor | undefined;
  private head: FeedCursor | undefined;
  private subscription: FeedSubscription<FeedItem> | undefined;
  private readonly listeners = new Set<(events: readonly HubEvent[]) => void>();
  private readonly ringSize: number;
  private stopped = false;

  constructor(
    private readonly queries: ApiQueries,
    private readonly options: FeedHubOptions,
  ) {
    this.ringSize = options.ringSize ?? 10_000;
  }

  /** Follows the feed from its current head; retries until PostgreSQL answers. */
  start(): void {
    void this.begin();
  }

  private async begin(): Promise<void> {
    let head: FeedCursor | undefined;
    while (!head && !this.stopped) {
      head = await this.queries.feedHead().catch((err: unknown) => {
        this.options.logger.warn('live stream: cannot read the feed head yet', {
          error: (err as Error).message,
        });
        return undefined;
      });
      if (!head) await new Promise((r) => setTimeout(r, 1000));
    }
    if (!head || this.stopped) return;
    this.head = head;
    this.ringStart = head;
    this.subscription = new FeedSubscription<FeedItem>(
      { readFeed: (c, n) => this.queries.feed(c, {}, n).then((p) => ({ events: p.items, next: p.next })) },
      head,
      (items) => {
        this.publish(items);
        return Promise.resolve();
      },
      {
        listenUrl: this.options.listenUrl,
        pollIntervalMs: this.options.pollIntervalMs ?? 1000,
        pageSize: 500,
        onError: (err) =>
          this.options.logger.warn('live stream: reading the feed failed', { error: (err as Error).message }),
      },
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.subscription?.close();
  }

  /** The newest cursor read: a client without Last-Event-ID starts here. */
  get position(): FeedCursor | undefined {
    return this.head;
  }

  private publish(items: readonly FeedItem[]): void {
    const events = items.map((item) => ({
      item,
      cursor: { txId: item.txId, position: item.position },
      message: sseMessage(item),
    }));
    if (events.length === 0) return;
    const now = Date.now();
    for (const { item } of events)
      this.options.delay?.observe(Math.max(0, now - Date.parse(item.recordedAt)) / 1000);
    this.ring.push(...events);
    this.head = events[events.length - 1]!.cursor;
    if (this.ring.length > this.ringSize) {
      const dropped = this.ring.splice(0, this.ring.length - this.ringSize);
      this.ringStart = dropped[dropped.length - 1]!.cursor;
    }
    for (const l of this.listeners) l(events);
  }

  /**
   * The ring's events after `cursor` when the ring covers it (the caller goes live from there),
   * or undefined when the cursor is older than the ring (the caller catches up from the store).
   */
  after(cursor: FeedCursor): HubEvent[] | undefined {
    if (!this.ringStart || compareCursors(cursor, this.ringStart) < 0) return undefined;
    let lo = 0;
    let hi = this.ring.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareCursors(this.ring[mid]!.cursor, cursor) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return this.ring.slice(lo);
  }

  /** Called with every new batch of events, in feed order. Returns the unsubscribe function. */
  subscribe(listener: (events: readonly HubEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
