/**
 * Which stored Singer state the next run's tap starts from (pure): the partial state a later
 * failed run left (what its target had committed), else the complete state — of the last
 * succeeded run, or set by a person.
 */
export interface StoredSingerState {
  readonly state?: Record<string, unknown> | null;
  readonly stateAt?: Date | null;
  readonly partialState?: Record<string, unknown> | null;
  readonly partialAt?: Date | null;
}

export type ResumeFrom = 'state' | 'partialState';

export function resumeFrom(row: StoredSingerState | undefined): ResumeFrom | undefined {
  if (!row) return undefined;
  if (row.partialState && (!row.stateAt || (row.partialAt ?? 0) > row.stateAt)) return 'partialState';
  return row.state ? 'state' : undefined;
}
