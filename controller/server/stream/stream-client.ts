/**
 * One live-stream client: catches up from the store when its cursor is older than the hub's
 * ring, then takes events from the hub. Every event after its cursor is considered exactly once,
 * in feed order; the ones passing its filters are sent with `id:` = their cursor. It holds at
 * most `maxBufferedBytes` unsent: a client slower than that is cut off (it resumes from its last
 * id) rather than growing memory. A heartbeat every `heartbeatMs` carries the cursor forward past
 * events the filters left out, so a reconnect does not scan them again. Ends exactly once.
 */
import type { Response } from 'express';
import type { ApiQueries, FeedFilter, FeedItem } from '../../store/api-queries.js';
import { compareCursors, formatCursor, type FeedCursor } from '../../store/cursor.js';
import { sseMessage, type FeedHub, type HubEvent } from './feed-hub.js';

export type EndReason = 'client' | 'slow' | 'forbidden' | 'shutdown' | 'error';

export interface StreamClientOptions {
  readonly hub: FeedHub;
  readonly queries: ApiQueries;
  readonly filter: FeedFilter;
  readonly from: FeedCursor;
  readonly res: Response;
  readonly maxBufferedBytes: number;
  readonly heartbeatMs: number;
  /** Asked every `recheckMs`: false ends the stream (the caller's permission was revoked). */
  readonly stillAllowed: () => Promise<boolean>;
  readonly recheckMs: number;
  readonly onEnd: (reason: EndReason) => void;
}

/** Reconnection delay the client is told (ms). */
const RETRY_MS = 2000;
const CATCH_UP_PAGE = 500;

export function matchesFilter(item: FeedItem, f: FeedFilter): boolean {
  return (
    (f.stream === undefined || item.stream === f.stream) &&
    (f.types === undefined || f.types.includes(item.type)) &&
    (f.namespace === undefined || item.namespace === f.namespace) &&
    (f.pipeline === undefined || item.pipeline === f.pipeline)
  );
}

export class StreamClient {
  private cursor: FeedCursor;
  private lastSentId = '';
  /** Chunks not yet handed to the socket, with their size (counted once). */
  private pending: { chunk: string; bytes: number }[] = [];
  private pendingBytes = 0;
  private draining = false;
  private ended = false;
  private unsubscribe: (() => void) | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private drained: (() => void) | undefined;

  constructor(private readonly o: StreamClientOptions) {
    this.cursor = o.from;
  }

  start(): void {
    const { res } = this.o;
    res.on('close', () => this.end('client'));
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    this.send(`retry: ${RETRY_MS}\n\n`);
    this.timers.push(setInterval(() => this.heartbeat(), this.o.heartbeatMs));
    this.timers.push(setInterval(() => void this.recheck(), this.o.recheckMs));
    void this.catchUp().catch(() => this.end('error'));
  }

  /** Reads from the store until the hub's ring covers the cursor, then goes live (synchronously). */
  private async catchUp(): Promise<void> {
    for (;;) {
      if (this.ended) return;
      const fromRing = this.o.hub.after(this.cursor);
      if (fromRing) {
        this.take(fromRing);
        this.unsubscribe = this.o.hub.subscribe((events) => this.take(events));
        return;
      }
      const page = await this.o.queries.feed(this.cursor, this.o.filter, CATCH_UP_PAGE);
      for (const item of page.items) this.deliver(item, sseMessage(item));
      this.cursor = page.next;
      if (this.pendingBytes > this.o.maxBufferedBytes / 2) await this.whenDrained();
      if (page.items.length === 0 && !this.o.hub.after(this.cursor)) {
        await new Promise((r) => setTimeout(r, 500)); // the hub has not reached this far yet
      }
    }
  }

  private take(events: readonly HubEvent[]): void {
    for (const e of events) {
      if (compareCursors(e.cursor, this.cursor) <= 0) continue;
      this.cursor = e.cursor;
      if (matchesFilter(e.item, this.o.filter)) this.deliver(e.item, e.message);
    }
  }

  private deliver(item: FeedItem, message: string): void {
    this.lastSentId = item.cursor;
    this.send(message);
  }

  private heartbeat(): void {
    const id = formatCursor(this.cursor);
    if (id !== this.lastSentId && this.unsubscribe) {
      this.lastSentId = id;
      this.send(`: heartbeat\nid: ${id}\n\n`);
    } else {
      this.send(': heartbeat\n\n');
    }
  }

  private async recheck(): Promise<void> {
    const ok = await this.o.stillAllowed().catch(() => true); // an apiserver hiccup is not a revocation
    if (!ok) this.end('forbidden');
  }

  private send(chunk: string): void {
    if (this.ended) return;
    const bytes = Buffer.byteLength(chunk);
    this.pending.push({ chunk, bytes });
    this.pendingBytes += bytes;
    if (this.pendingBytes > this.o.maxBufferedBytes) {
      this.end('slow');
      return;
    }
    this.flush();
  }

  private flush(): void {
    const { res } = this.o;
    while (!this.draining && this.pending.length > 0 && !this.ended) {
      const { chunk, bytes } = this.pending.shift()!;
      this.pendingBytes -= bytes;
      if (!res.write(chunk)) {
        this.draining = true;
        res.once('drain', () => {
          this.draining = false;
          this.flush();
        });
      }
    }
    if (!this.draining && this.pending.length === 0) {
      this.drained?.();
      this.drained = undefined;
    }
  }

  private whenDrained(): Promise<void> {
    if (!this.draining && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.drained;
      this.drained = () => {
        previous?.();
        resolve();
      };
    });
  }

  /** Ends the stream once, whatever asks first (the client leaving, slowness, revocation, shutdown). */
  end(reason: EndReason): void {
    if (this.ended) return;
    this.ended = true;
    for (const t of this.timers) clearInterval(t);
    this.unsubscribe?.();
    this.pending = [];
    this.pendingBytes = 0;
    this.drained?.();
    // A slow client's socket is full: destroy it rather than wait on an end that cannot flush.
    if (reason === 'slow') this.o.res.destroy();
    else this.o.res.end();
    this.o.onEnd(reason);
  }
}
