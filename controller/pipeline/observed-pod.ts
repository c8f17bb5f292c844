/** What the planner needs to know about a Pod the controller owns, read from the Pod (pure). */
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { LABELS } from './labels.js';

export type PodOutcome = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

export interface ObservedPod {
  readonly name: string;
  readonly runKey: string;
  readonly step: string;
  readonly attempt: number;
  readonly outcome: PodOutcome;
  /** The first non-zero container exit code, or 0 when all exited 0. */
  readonly exitCode?: number;
  /** Why the Pod failed when no container says so (e.g. DeadlineExceeded, Evicted). */
  readonly reason?: string;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  /**
   * A container the kubelet cannot start, and why (ErrImagePull, ImagePullBackOff,
   * ErrImageNeverPull, InvalidImageName, CreateContainerConfigError): the attempt fails after a
   * grace instead of waiting for its timeout.
   */
  readonly stuck?: { readonly reason: string; readonly message?: string };
  /** Why a container was ended by the system (OOMKilled), for the attempt's reason. */
  readonly killedBecause?: string;
  /** Names of the Pod's containers, whose logs are kept when it finishes. */
  readonly containers: readonly string[];
  readonly deleting: boolean;
}

const ms = (t: Date | string | undefined): number | undefined =>
  t === undefined ? undefined : new Date(t).getTime();

function exitCodeOf(statuses: readonly V1ContainerStatus[]): number | undefined {
  const codes = statuses
    .map((s) => s.state?.terminated?.exitCode)
    .filter((c): c is number => c !== undefined);
  if (codes.length === 0) return undefined;
  return codes.find((c) => c !== 0) ?? 0;
}

function finishedAtOf(statuses: readonly V1ContainerStatus[]): number | undefined {
  const times = statuses
    .map((s) => ms(s.state?.terminated?.finishedAt))
    .filter((t): t is number => t !== undefined);
  return times.length ? Math.max(...times) : undefined;
}

/** Waiting reasons that never pass by themselves: the image or the container config is wrong. */
export const STUCK_REASONS: ReadonlySet<string> = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'ErrImageNeverPull',
  'InvalidImageName',
  'CreateContainerConfigError',
]);

function stuckOf(statuses: readonly V1ContainerStatus[]): ObservedPod['stuck'] {
  for (const s of statuses) {
    const w = s.state?.waiting;
    if (w?.reason && STUCK_REASONS.has(w.reason))
      return { reason: w.reason, ...(w.message && { message: `${s.name}: ${w.message}` }) };
  }
  return undefined;
}

function killedBecauseOf(statuses: readonly V1ContainerStatus[]): string | undefined {
  return statuses.map((s) => s.state?.terminated?.reason).find((r) => r === 'OOMKilled');
}

/** Reads an owned Pod; undefined when it lacks FlexCore's labels (not one of ours). */
export function observePod(pod: V1Pod): ObservedPod | undefined {
  const labels = pod.metadata?.labels ?? {};
  const attempt = Number(labels[LABELS.attempt]);
  const runKey = labels[LABELS.run];
  const step = labels[LABELS.step];
  if (!pod.metadata?.name || !runKey || !step || !Number.isInteger(attempt)) return undefined;
  const statuses = pod.status?.containerStatuses ?? [];
  const phase = pod.status?.phase;
  const outcome: PodOutcome =
    phase === 'Succeeded' || phase === 'Failed' || phase === 'Running' ? phase : 'Pending';
  return {
    name: pod.metadata.name,
    runKey,
    step,
    attempt,
    outcome,
    exitCode: exitCodeOf(statuses),
    reason: pod.status?.reason,
    stuck: outcome === 'Pending' ? stuckOf(statuses) : undefined,
    killedBecause: killedBecauseOf(statuses),
    startedAt: ms(pod.status?.startTime),
    finishedAt: outcome === 'Succeeded' || outcome === 'Failed' ? finishedAtOf(statuses) : undefined,
    containers: (pod.spec?.containers ?? []).map((c) => c.name),
    deleting: pod.metadata.deletionTimestamp !== undefined,
  };
}
