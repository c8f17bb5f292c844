/**
 * Ad hoc pipelines (created by the status API's execute command): one run, then deleted a TTL
 * after it finished, so one-off executions do not pile up. Pure: when, if ever, to delete.
 */
import type { PipelineObject } from '../objects.js';
import type { History } from './history.js';
import { ANNOTATIONS, LABELS } from './labels.js';

/** The TTL when the annotation is missing or not a number (one hour). */
export const DEFAULT_AD_HOC_TTL_SECONDS = 3600;

export type AdHocExpiry = { readonly deleteNow: true } | { readonly deleteAt: number } | undefined;

/**
 * For an ad hoc pipeline whose runs have all finished: delete it now, or at the instant its TTL
 * ends. Undefined for any other pipeline, and while a run is active or none has started.
 */
export function adHocExpiry(
  p: Readonly<PipelineObject>,
  history: Readonly<History>,
  now: number,
): AdHocExpiry {
  if (p.metadata.labels?.[LABELS.adHoc] !== 'true' || p.metadata.deletionTimestamp) return undefined;
  if (history.runs.length === 0 || history.runs.some((r) => r.finishedAt === undefined)) return undefined;
  const raw = Number(p.metadata.annotations?.[ANNOTATIONS.ttlAfterFinished]);
  const ttlMs = (Number.isFinite(raw) && raw >= 0 ? raw : DEFAULT_AD_HOC_TTL_SECONDS) * 1000;
  const finished = Math.max(...history.runs.map((r) => r.finishedAt!));
  return now >= finished + ttlMs ? { deleteNow: true } : { deleteAt: finished + ttlMs };
}
