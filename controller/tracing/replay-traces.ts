/**
 * Run traces again from the event log (`flexcore replay --traces`): each pipeline stream folded
 * from its first event, in version order, with the fold the controller uses when it records, so
 * each finished run gives the trace the controller sent for it, ids and times alike.
 */
import { emptyHistory } from '../pipeline/history.js';
import type { EventStore } from '../store/event-store.js';
import { foldFinishingRuns } from './finished-runs.js';
import { runTraceOf, type RunTrace } from './run-trace.js';

/** Traces queued between flushes: the batch processor drops what overflows its queue (2048 spans). */
const FLUSH_EVERY = 100;
const PAGE = 1000;

export interface TraceSink {
  export(trace: RunTrace): void;
  flush(): Promise<void>;
}

/** Sends the trace of every finished run in the store; returns how many. */
export async function replayTraces(store: EventStore, sink: TraceSink): Promise<number> {
  let exported = 0;
  for (const stream of await store.streamIds('pipeline-')) {
    const history = emptyHistory();
    const pipelines = new Map<string, { namespace: string; name: string }>();
    for (let from = 0; ;) {
      const events = await store.readStream(stream, from, PAGE);
      for (const { run, pipeline } of foldFinishingRuns(history, events, pipelines)) {
        const trace = pipeline && runTraceOf(pipeline, run);
        if (!trace) continue;
        sink.export(trace);
        if (++exported % FLUSH_EVERY === 0) await sink.flush();
      }
      if (events.length < PAGE) break;
      from = events[events.length - 1]!.streamVersion + 1;
    }
  }
  await sink.flush();
  return exported;
}
