/**
 * Run traces again from the event log (`flexcore replay --traces`): every stream folded from
 * its first event with the fold the controller uses when it records, so each finished run gives
 * the trace the controller exported for it, ids and times alike.
 */
import { emptyHistory, type History } from '../pipeline/history.js';
import type { EventStore } from '../store/event-store.js';
import { foldFinishingRuns } from './finished-runs.js';
import { runTraceOf, type RunTrace } from './run-trace.js';

/** Exports the trace of every finished run in the store; returns how many. */
export async function replayTraces(
  store: EventStore,
  sink: { export(trace: RunTrace): void },
): Promise<number> {
  const histories = new Map<string, History>();
  const pipelines = new Map<string, { namespace: string; name: string }>();
  let exported = 0;
  for (let page = await store.readFeed(); page.events.length > 0; page = await store.readFeed(page.next)) {
    for (const e of page.events) {
      if (!e.streamId.startsWith('pipeline-')) continue;
      let history = histories.get(e.streamId);
      if (!history) histories.set(e.streamId, (history = emptyHistory()));
      for (const { run, pipeline } of foldFinishingRuns(history, [e], pipelines)) {
        const trace = pipeline && runTraceOf(pipeline, run);
        if (!trace) continue;
        sink.export(trace);
        exported++;
      }
    }
  }
  return exported;
}
