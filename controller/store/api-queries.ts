/**
 * The status API's reads of the read models and the feed (the CQRS query side). Statements run
 * unnamed, so PostgreSQL plans each with its values: an unused optional filter folds away and
 * the page comes out of the index that fits (test/integration/api-explain.test.ts holds that).
 */
import { FEED_START, formatCursor, type FeedCursor } from './cursor.js';
import { DURATION_BUCKETS } from './duration-buckets.js';
import { classify } from './errors.js';
import { prepared, sql } from './sql.js';

/** Where a page of runs stops: the last run's start (microseconds since the epoch) and id. */
export interface RunKey {
  readonly startedUs: string;
  readonly runId: string;
}

export interface RunFilter {
  readonly namespace?: string;
  readonly pipeline?: string;
  readonly phases?: readonly string[];
  readonly triggers?: readonly string[];
  readonly startedAfter?: Date;
  readonly startedBefore?: Date;
  /** Only runs of these pipelines (a label selector resolved by the caller); empty: none. */
  readonly pipelines?: readonly { namespace: string; name: string }[];
}

export interface RunRow {
  readonly runId: string;
  readonly namespace: string;
  readonly pipeline: string;
  readonly trigger: string;
  readonly generation?: number;
  readonly phase: string;
  readonly reason?: string;
  readonly startedAt: Date;
  readonly finishedAt?: Date;
}

export interface AttemptRow {
  readonly step: string;
  readonly attempt: number;
  readonly pod?: string;
  readonly phase: string;
  readonly exitCode?: number;
  readonly reason?: string;
  readonly scheduledAt?: Date;
  readonly startedAt?: Date;
  readonly finishedAt?: Date;
  readonly durationMs?: number;
  readonly logs: { container: string; bytes: number; truncated: boolean }[];
}

export interface LogTail {
  readonly container: string;
  readonly tail: string;
  readonly truncated: boolean;
}

export interface SingerStateRow {
  readonly stateId: string;
  readonly state?: Record<string, unknown>;
  readonly stateRunId?: string;
  readonly stateAt?: Date;
  readonly partialState?: Record<string, unknown>;
  readonly partialRunId?: string;
  readonly partialAt?: Date;
  readonly changedBy?: string;
}

export interface FeedFilter {
  readonly stream?: string;
  readonly types?: readonly string[];
  readonly namespace?: string;
  readonly pipeline?: string;
}

export interface FeedItem {
  /** `txId.position`: the opaque cursor clients see. */
  readonly cursor: string;
  readonly txId: string;
  readonly position: number;
  readonly stream: string;
  readonly streamVersion: number;
  readonly id: string;
  readonly type: string;
  /** RFC 3339, UTC, milliseconds. */
  readonly recordedAt: string;
  readonly namespace?: string;
  readonly pipeline?: string;
  /** The event's data as the JSON text PostgreSQL holds (not parsed: most callers copy it out). */
  readonly dataJson: string;
}

/** One group of the run summary: runs per result, duration histogram over all of them. */
export interface SummaryGroup {
  readonly key: string;
  readonly runs: Record<string, number>;
  readonly durationMsSum: number;
  /** Counts per duration bucket (DURATION_BUCKET_BOUNDS), all results together. */
  readonly buckets: number[];
}

type Row = Record<string, unknown>;

/** The part of a pg pool the queries use: a statement with its values, named when prepared. */
export interface StatementQueryable {
  query(statement: { name?: string; text: string; values: unknown[] }): Promise<{ rows: Row[] }>;
}
const opt = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);
const num = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));

function runRow(r: Row): RunRow {
  return {
    runId: r.run_id as string,
    namespace: r.pipeline_namespace as string,
    pipeline: r.pipeline_name as string,
    trigger: r.trigger as string,
    generation: num(r.generation),
    phase: r.phase as string,
    reason: opt(r.reason as string | null),
    startedAt: r.started_at as Date,
    finishedAt: opt(r.finished_at as Date | null),
  };
}

/** How many events a filtered feed page looks at, at most, before it answers. */
const FEED_SCAN_WINDOW = 5000;

export class ApiQueries {
  constructor(private readonly db: StatementQueryable) {}

  /**
   * Runs `sql/api/<name>.sql`. Statements whose plan is the same whatever the values (one run,
   * the feed window) are prepared once per connection; the run lists are planned with their
   * values each time, as the index that fits depends on which filters are set.
   */
  private async query(
    name: string,
    values: unknown[],
    plan: 'prepared' | 'per-call' = 'prepared',
  ): Promise<Row[]> {
    try {
      const q = plan === 'prepared' ? prepared(`api/${name}`, values) : { text: sql(`api/${name}`), values };
      return (await this.db.query(q)).rows;
    } catch (err) {
      throw classify(err);
    }
  }

  /** Up to `limit` runs after `after` in the given order, and the key to continue from (if more). */
  async runs(
    filter: RunFilter,
    order: 'asc' | 'desc',
    limit: number,
    after?: RunKey,
  ): Promise<{ runs: RunRow[]; next?: RunKey }> {
    if (filter.pipelines?.length === 0) return { runs: [] };
    const rows = await this.query(
      order === 'desc' ? 'runs-newest-first' : 'runs-oldest-first',
      [
        filter.namespace ?? null,
        filter.pipeline ?? null,
        filter.phases ?? null,
        filter.triggers ?? null,
        filter.startedAfter ?? null,
        filter.startedBefore ?? null,
        filter.pipelines?.map((p) => p.namespace) ?? null,
        filter.pipelines?.map((p) => p.name) ?? null,
        after?.startedUs ?? null,
        after?.runId ?? null,
        limit + 1,
      ],
      'per-call',
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      runs: page.map(runRow),
      ...(rows.length > limit &&
        last && { next: { startedUs: last.started_us as string, runId: last.run_id as string } }),
    };
  }

  async run(runId: string): Promise<RunRow | undefined> {
    const [row] = await this.query('run', [runId]);
    return row && runRow(row);
  }

  async attempts(runId: string): Promise<AttemptRow[]> {
    const rows = await this.query('run-attempts', [runId]);
    return rows.map((r) => ({
      step: r.step as string,
      attempt: Number(r.attempt),
      pod: opt(r.pod as string | null),
      phase: r.phase as string,
      exitCode: num(r.exit_code),
      reason: opt(r.reason as string | null),
      scheduledAt: opt(r.scheduled_at as Date | null),
      startedAt: opt(r.started_at as Date | null),
      finishedAt: opt(r.finished_at as Date | null),
      durationMs: num(r.duration_ms),
      logs: r.logs as AttemptRow['logs'],
    }));
  }

  async logTails(runId: string, step: string, attempt: number, container?: string): Promise<LogTail[]> {
    const rows = await this.query('log-tails', [runId, step, attempt, container ?? null]);
    return rows.map((r) => ({
      container: r.container as string,
      tail: r.tail as string,
      truncated: r.truncated as boolean,
    }));
  }

  async singerStates(stateIds: readonly string[]): Promise<SingerStateRow[]> {
    if (stateIds.length === 0) return [];
    const rows = await this.query('singer-states', [stateIds]);
    return rows.map((r) => ({
      stateId: r.state_id as string,
      state: opt(r.state as Record<string, unknown> | null),
      stateRunId: opt(r.state_run_id as string | null),
      stateAt: opt(r.state_at as Date | null),
      partialState: opt(r.partial_state as Record<string, unknown> | null),
      partialRunId: opt(r.partial_run_id as string | null),
      partialAt: opt(r.partial_at as Date | null),
      changedBy: opt(r.changed_by as string | null),
    }));
  }

  /** Finished runs since `since` (a UTC day), grouped by day or by pipeline (`namespace/name`), in key order. */
  async summary(since: string, groupBy: 'day' | 'pipeline', namespace?: string): Promise<SummaryGroup[]> {
    const rows = await this.query('summary', [since, namespace ?? null, groupBy], 'per-call');
    const groups = new Map<string, { runs: Record<string, number>; ms: number; buckets: number[] }>();
    for (const r of rows) {
      const key = r.key as string;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { runs: {}, ms: 0, buckets: Array<number>(DURATION_BUCKETS).fill(0) }));
      g.runs[r.phase as string] = Number(r.runs);
      g.ms += Number(r.ms);
      (r.buckets as string[]).forEach((n, i) => (g.buckets[i]! += Number(n)));
    }
    return [...groups.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, g]) => ({ key, runs: g.runs, durationMsSum: g.ms, buckets: g.buckets }));
  }

  /** The newest event every reader can see: where a stream without a cursor starts. */
  async feedHead(): Promise<FeedCursor> {
    const [row] = await this.query('feed-head', []);
    return row ? { txId: row.tx_id as string, position: Number(row.position) } : FEED_START;
  }

  /**
   * Up to `limit` feed events after `cursor` that pass `filter`, in commit order, and the cursor
   * to continue from: past the last event returned, or past everything looked at when fewer
   * matched — so a caller polling with a sparse filter still moves forward.
   */
  async feed(
    cursor: FeedCursor,
    filter: FeedFilter,
    limit: number,
  ): Promise<{ items: FeedItem[]; next: FeedCursor }> {
    const filtered = Object.values(filter).some((v) => v !== undefined);
    const rows = await this.query('feed-window', [
      cursor.txId,
      cursor.position,
      filter.stream ?? null,
      filter.types ?? null,
      filter.namespace ?? null,
      filter.pipeline ?? null,
      filtered ? Math.max(limit, FEED_SCAN_WINDOW) : limit,
    ]);
    const items: FeedItem[] = [];
    let next = cursor;
    for (const r of rows) {
      next = { txId: r.tx_id as string, position: Number(r.position) };
      if (!r.matched) continue;
      items.push({
        cursor: formatCursor(next),
        txId: next.txId,
        position: next.position,
        stream: r.stream_id as string,
        streamVersion: Number(r.stream_version),
        id: r.event_id as string,
        type: r.type as string,
        recordedAt: r.recorded_at as string,
        namespace: opt(r.pipeline_namespace as string | null),
        pipeline: opt(r.pipeline_name as string | null),
        dataJson: r.data as string,
      });
      if (items.length === limit) break;
    }
    return { items, next };
  }
}
