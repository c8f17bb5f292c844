/**
 * Histories of pipelines, kept folded in memory and brought up to date from the event store
 * on every reconcile (reading only the events after the cached version). The store stays
 * the truth: a history is never advanced by anything but what was read back or appended.
 */
import type { EventStore } from '../store/event-store.js';
import type { NewEvent } from '../store/recorded-event.js';
import { applyEvent, emptyHistory, foldHistory, type History } from './history.js';

const PAGE = 1000;

export class HistoryCache {
  private readonly histories = new Map<string, History>();

  constructor(private readonly store: EventStore) {}

  /** The history of `stream`, including every event recorded so far. */
  async load(stream: string): Promise<History> {
    let history = this.histories.get(stream) ?? emptyHistory();
    for (;;) {
      const events = await this.store.readStream(stream, history.version + 1, PAGE);
      history = foldHistory(events, history);
      if (events.length < PAGE) break;
    }
    this.histories.set(stream, history);
    return history;
  }

  /** Folds events just appended at `positions` (from `fromVersion` on) into the cached history. */
  recordAppended(
    stream: string,
    base: History,
    events: readonly NewEvent[],
    positions: readonly number[],
  ): History {
    const history = structuredClone(base);
    events.forEach((e, i) =>
      applyEvent(history, {
        type: e.type,
        data: e.data,
        recordedAt: new Date(typeof e.data.at === 'string' ? e.data.at : Date.now()),
        streamVersion: base.version + 1 + i,
        position: positions[i] ?? 0,
      }),
    );
    this.histories.set(stream, history);
    return history;
  }

  forget(stream: string): void {
    this.histories.delete(stream);
  }

  get size(): number {
    return this.histories.size;
  }
}
