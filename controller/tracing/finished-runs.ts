/**
 * The runs a batch of events finishes, as they stand right after their RunFinished (pure). The
 * controller calls it with the history before an append and the appended events; replay with an
 * empty history and a whole stream: the same fold, so the same traces.
 */
import { applyEvent, type History, type RunState } from '../pipeline/history.js';
import type { RecordedEvent } from '../store/recorded-event.js';

export type Foldable = Pick<RecordedEvent, 'type' | 'data' | 'recordedAt' | 'streamVersion' | 'position'>;

export interface FinishedRun {
  readonly run: RunState;
  /** The pipeline as its RunStarted recorded it, when that event was among those folded. */
  readonly pipeline?: { readonly namespace: string; readonly name: string };
}

/**
 * Folds `events` into `history` (in place: pass a copy, or a history of one's own) and returns
 * a snapshot of each run at its RunFinished.
 */
export function foldFinishingRuns(
  history: History,
  events: readonly Foldable[],
  pipelines: Map<string, { namespace: string; name: string }> = new Map(),
): FinishedRun[] {
  const finished: FinishedRun[] = [];
  for (const e of events) {
    const runId = typeof e.data.runId === 'string' ? e.data.runId : undefined;
    if (e.type === 'RunStarted' && runId) {
      const p = e.data.pipeline as { namespace?: unknown; name?: unknown } | undefined;
      if (typeof p?.namespace === 'string' && typeof p.name === 'string')
        pipelines.set(runId, { namespace: p.namespace, name: p.name });
    }
    const before = e.type === 'RunFinished' ? history.runs.find((r) => r.id === runId) : undefined;
    const wasActive = before?.finishedAt === undefined;
    applyEvent(history, e);
    if (before && wasActive && before.finishedAt !== undefined) {
      const pipeline = runId ? pipelines.get(runId) : undefined;
      finished.push({ run: structuredClone(before), ...(pipeline && { pipeline }) });
      if (runId) pipelines.delete(runId);
    }
  }
  return finished;
}
