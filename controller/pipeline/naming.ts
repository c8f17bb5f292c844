/**
 * Deterministic names: the same pipeline, trigger and attempt always give the same run id, Pod
 * and event ids, so a repeated create is AlreadyExists and a repeated append is a no-op.
 */
import { createHash } from 'node:crypto';
import type { RunTrigger } from '../../api/v1alpha1/index.js';

/** The event stream of one pipeline object (by uid: a recreated pipeline starts a new history). */
export function pipelineStream(uid: string): string {
  return `pipeline-${uid}`;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** `YYYYMMDDHHmm` in UTC: a schedule tick as a label-safe string. */
function tickStamp(tickMs: number): string {
  return new Date(tickMs).toISOString().slice(0, 16).replace(/[-T:]/g, '');
}

/** What started a run, enough to name it. */
export type RunCause =
  | { readonly trigger: 'Generation'; readonly generation: number }
  | {
      readonly trigger: 'Manual';
      readonly request: string;
      /** Stream version when decided: a value used again later is a new run. */ readonly seq: number;
    }
  | { readonly trigger: 'Schedule'; readonly tickMs: number };

/** Short, label-safe key of a run within its pipeline: g3, m-1a2b3c4d, s-202611211430. */
export function runKey(cause: RunCause): string {
  switch (cause.trigger) {
    case 'Generation':
      return `g${cause.generation}`;
    case 'Manual':
      return `m-${shortHash(`${cause.request}@${cause.seq}`)}`;
    case 'Schedule':
      return `s-${tickStamp(cause.tickMs)}`;
  }
}

/** Globally unique run id: the run key and the start of the pipeline uid. */
export function runId(pipelineUid: string, key: string): string {
  return `${key}-${pipelineUid.replace(/-/g, '').slice(0, 8)}`;
}

export function triggerOf(cause: RunCause): RunTrigger {
  return cause.trigger;
}

/**
 * Pod (and attempt Secret) name: `<pipeline>-<run key>-<step>-<attempt>`. At most
 * 63 + 15 + 40 + 3 characters, within the 253 of a Pod name.
 */
export function podName(pipeline: string, key: string, step: string, attempt: number): string {
  return `${pipeline}-${key}-${step}-${attempt}`;
}
