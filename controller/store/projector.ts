/**
 * Read-model projection from the controller's side: the read-model tables and the event data check
 * before an append. The projections themselves live in PostgreSQL
 * (flexcore.project, migration 009) and write unqualified tables, so the same code fills the live
 * schema (flexcore_read) on append and a replay schema on replay.
 */
import { EventData, isProjectedType } from './event-types.js';

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
