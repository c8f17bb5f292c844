/**
 * Histories of pipelines, kept folded in memory. A history is read from the event store when
 * it is not held (first reconcile, after a leadership change, after an append conflict) and
 * advanced by this replica's own appends. While a replica leads a scope it is the only writer
 * of its pipelines' streams (fencing refuses everyone else), so a held history is current; an
 * append from a stale one fails on the stream version, and the history is read again. The
 * store stays the truth: a history is never advanced by anything but what was read back or
 * appended.
 */
import type { EventStore } from '../store/event-store.js';
import { emptyHistory, foldHistory, type History } from './history.js';

const PAGE = 1000;

export class HistoryCache {
  private readonly histories = new Map<string, History>();

  constructor(private readonly store: EventStore) {}

  /** The history of `stream`, including every event recorded so far. */
  async load(stream: string): Promise<History> {
    const held = this.histories.get(stream);
    if (held) return held;
    let history = emptyHistory();
    for (;;) {
      const events = await this.store.readStream(stream, history.version + 1, PAGE);
      history = foldHistory(events, history);
      if (events.length < PAGE) break;
    }
    this.histories.set(stream, history);
    return history;
  }

  /**
   * Keeps a plan's history as the stream's once its events are recorded: the plan folded them
   * already, so only the position of the last one is new.
   */
  remember(stream: string, planned: History, lastPosition: number): History {
    const history = { ...planned, lastPosition };
    this.histories.set(stream, history);
    return history;
  }

  forget(stream: string): void {
    this.histories.delete(stream);
  }
}
