/**
 * The live side of run traces: told of every batch the controller records, it sends each run
 * the batch finishes, folded from the history before the batch exactly as replay-traces.ts folds
 * a whole stream, so both send the same spans.
 */
import type { History } from '../pipeline/history.js';
import { foldFinishingRuns, type Foldable } from './finished-runs.js';
import { runTraceOf, type RunTrace } from './run-trace.js';

export class RunTraces {
  constructor(private readonly sink: { export(trace: RunTrace): void }) {}

  recorded(
    pipeline: { readonly namespace: string; readonly name: string },
    before: History,
    events: readonly Foldable[],
  ): void {
    if (!events.some((e) => e.type === 'RunFinished')) return;
    for (const { run } of foldFinishingRuns(structuredClone(before), events)) {
      const trace = runTraceOf(pipeline, run);
      if (trace) this.sink.export(trace);
    }
  }
}
