/**
 * Follows the global feed: reads from a cursor and hands each page to a handler, in order.
 * LISTEN/NOTIFY is only a wake-up hint; polling every `pollIntervalMs` is the guarantee, so a
 * lost notification or a dropped LISTEN connection delays delivery but never loses an event.
 */
import pg from 'pg';
import type { FeedCursor } from './cursor.js';
import type { RecordedEvent } from './recorded-event.js';

/** Reads pages of the feed after a cursor (the event store, or the API's feed with pipelines). */
export interface FeedReader<E> {
  readFeed(cursor: FeedCursor, limit: number): Promise<{ events: E[]; next: FeedCursor }>;
}

export interface SubscriptionOptions {
  /** Connection string for the LISTEN connection; without it only polling is used. */
  readonly listenUrl?: string;
  readonly pollIntervalMs?: number;
  readonly pageSize?: number;
  /** Called with errors the subscription survives (store unavailable, handler failures). */
  readonly onError?: (err: unknown) => void;
}

export class FeedSubscription<E = RecordedEvent> {
  private cursor: FeedCursor;
  private closed = false;
  private wake: (() => void) | undefined;
  private listener: pg.Client | undefined;
  private readonly loop: Promise<void>;

  constructor(
    private readonly store: FeedReader<E>,
    from: FeedCursor,
    private readonly handler: (events: E[]) => Promise<void>,
    private readonly options: SubscriptionOptions = {},
  ) {
    this.cursor = from;
    this.loop = this.run();
  }

  /** The cursor after the last page the handler accepted. */
  get position(): FeedCursor {
    return this.cursor;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.loop;
    await this.listener?.end().catch(() => undefined);
  }

  private async run(): Promise<void> {
    const poll = this.options.pollIntervalMs ?? 1000;
    while (!this.closed) {
      await this.ensureListener();
      try {
        const page = await this.store.readFeed(this.cursor, this.options.pageSize ?? 500);
        if (page.events.length > 0) {
          await this.handler(page.events);
          this.cursor = page.next; // only after the handler took them: at-least-once delivery
          continue;
        }
      } catch (err) {
        this.options.onError?.(err);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, poll);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private async ensureListener(): Promise<void> {
    if (this.listener || !this.options.listenUrl || this.closed) return;
    const client = new pg.Client({ connectionString: this.options.listenUrl });
    client.on('notification', () => this.wake?.());
    client.on('error', (err) => {
      this.options.onError?.(err);
      if (this.listener === client) this.listener = undefined; // re-created on the next turn
    });
    try {
      await client.connect();
      await client.query('LISTEN flexcore_events');
      this.listener = client;
    } catch (err) {
      this.options.onError?.(err);
      await client.end().catch(() => undefined);
    }
  }
}
