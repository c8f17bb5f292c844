/**
 * Applies one recorded event to the read models. Statements are unqualified: the caller sets
 * `search_path` to the live schema (flexcore_read) or to a replay schema, so live appends and
 * replay run exactly the same code. Updates are guarded by event position, which makes the
 * result independent of the order in which concurrent transactions commit.
 */
import { EventData, isProjectedType, type EventDataOf, type ProjectedType } from './event-types.js';
import type { RecordedEvent } from './recorded-event.js';
import type pg from 'pg';
import { prepared } from './sql.js';

/** Schema holding the live projections. */
export const LIVE_SCHEMA = 'flexcore_read';
/** Projection tables, in the order replay creates and compares them. */
export const PROJECTION_TABLES = [
  'runs',
  'step_attempts',
  'singer_state',
  'log_tails',
  'run_summary',
  'discovered_catalogs',
] as const;

type Params<T extends ProjectedType> = (d: EventDataOf<T>, at: Date, position: number) => unknown[];

const PARAMS: { [T in ProjectedType]: Params<T> } = {
  RunStarted: (d, at, p) => [
    d.runId,
    d.pipeline.namespace,
    d.pipeline.name,
    d.trigger,
    d.generation ?? null,
    at,
    p,
  ],
  RunFinished: (d, at, p) => [d.runId, d.phase, d.reason ?? null, at, p],
  StepAttemptScheduled: (d, at, p) => [d.runId, d.step, d.attempt, d.pod, at, p],
  CatalogDiscoveryScheduled: (d, at, p) => [d.runId, d.step, d.attempt, d.pod, at, p],
  CatalogDiscovered: (d, at, p) => [d.catalogKey, d.digest, d.plugin, d.image, d.streams, d.bytes, at, p],
  StepAttemptStarted: (d, at, p) => [d.runId, d.step, d.attempt, at, p],
  StepAttemptFinished: (d, at, p) => [
    d.runId,
    d.step,
    d.attempt,
    d.phase,
    d.exitCode ?? null,
    d.reason ?? null,
    at,
    p,
  ],
  StepSkipped: (d, at, p) => [d.runId, d.step, d.reason ?? null, at, p],
  SingerStateCaptured: (d, at, p) => [d.stateId, JSON.stringify(d.state), d.runId, d.partial, at, p],
  SingerStateSet: (d, at, p) => [d.stateId, JSON.stringify(d.state), d.requestedBy, at, p],
  SingerStateCleared: (d, at, p) => [d.stateId, d.requestedBy, at, p],
  LogTailCaptured: (d, at, p) => [d.runId, d.step, d.attempt, d.container, d.tail, d.truncated, at, p],
};

/** Throws when an event of a projected type carries data the projections cannot use. */
export function checkEventData(type: string, data: unknown): void {
  if (!isProjectedType(type)) return;
  const parsed = EventData[type].safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TypeError(
      `${type} event data is invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? ''}`,
    );
  }
}

/** Runs the projection statement for `event`, if its type has one. */
export async function project(db: pg.ClientBase, event: RecordedEvent): Promise<void> {
  if (!isProjectedType(event.type)) return;
  const data = EventData[event.type].parse(event.data) as never;
  const at = typeof event.data.at === 'string' ? new Date(event.data.at) : event.recordedAt;
  const params = (PARAMS[event.type] as Params<ProjectedType>)(data, at, event.position);
  // Prepared once per connection: appends project on every run transition. A changed
  // search_path (replay's schema) makes PostgreSQL plan it again for that schema.
  await db.query(prepared(`project/${event.type}`, params));
}
