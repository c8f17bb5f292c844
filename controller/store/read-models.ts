/** Queries of the read models (flexcore_read) and fences that the engine needs. */
import { resumeFrom } from './resume-state.js';
import { prepared, type Queryable } from './sql.js';

export class ReadModels {
  constructor(private readonly db: Queryable) {}

  /**
   * Raises `fence` to its newest token + 1 and returns it: a new leader's fencing token. From
   * this instant every append with an older token is refused. Waits at most `lockTimeoutMs`
   * for appends of older tokens in flight (then fails: try again later).
   */
  async raiseFence(fence: string, lockTimeoutMs = 5000): Promise<number> {
    const q = prepared('raise-fence', [fence, Math.max(1, Math.round(lockTimeoutMs))]);
    const { rows } = await this.db.query<{ token: string }>(q.text, q.values);
    return Number(rows[0]!.token);
  }

  /** When a pipeline last ran and last succeeded, over every recorded run (ms since the epoch). */
  async pipelineFreshness(
    namespace: string,
    name: string,
  ): Promise<{ lastRunAt?: number; lastSuccessAt?: number }> {
    const q = prepared('pipeline-freshness', [namespace, name]);
    const { rows } = await this.db.query<{ last_run_at: Date | null; last_success_at: Date | null }>(
      q.text,
      q.values,
    );
    const row = rows[0];
    return {
      ...(row?.last_run_at && { lastRunAt: row.last_run_at.getTime() }),
      ...(row?.last_success_at && { lastSuccessAt: row.last_success_at.getTime() }),
    };
  }

  /** The Singer state a tap should resume from (see resumeFrom). */
  async singerState(stateId: string): Promise<Record<string, unknown> | undefined> {
    const q = prepared('singer-state', [stateId]);
    const { rows } = await this.db.query<{
      state: Record<string, unknown> | null;
      state_at: Date | null;
      partial_state: Record<string, unknown> | null;
      partial_at: Date | null;
    }>(q.text, q.values);
    const row = rows[0];
    const stored = row && {
      state: row.state,
      stateAt: row.state_at,
      partialState: row.partial_state,
      partialAt: row.partial_at,
    };
    const from = resumeFrom(stored);
    return from && (stored?.[from] ?? undefined);
  }
}
