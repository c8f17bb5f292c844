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
  /**
   * The exit code of the container that failed first (see exitCodeOf), or 0 when all exited 0.
   */
  readonly exitCode?: number;
  /** When more than one container failed: each one's exit, e.g. "tap exited 1, target exited 7". */
  readonly exits?: string;
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

/** Sides of a Singer pair: when both fail in the same second, the target's failure is named. */
const TARGET_CONTAINER = 'target';

/**
 * The exit code of the container that failed first, by its finish time: in a Singer pair one
 * side's failure ends the other (EOF or a broken pipe), and the cause is what users need. The
 * API keeps whole seconds, so on a tie the target's code wins: a tap that dies leaves a target
 * that usually exits 0 at EOF, while a target that dies makes the tap fail on its next write.
 */
function exitCodeOf(statuses: readonly V1ContainerStatus[]): number | undefined {
  const done = statuses.filter((s) => s.state?.terminated !== undefined);
  if (done.length === 0) return undefined;
  const failed = done.filter((s) => s.state!.terminated!.exitCode !== 0);
  if (failed.length === 0) return 0;
  const rank = (s: V1ContainerStatus): [number, number] => [
    ms(s.state!.terminated!.finishedAt) ?? Number.MAX_SAFE_INTEGER,
    s.name === TARGET_CONTAINER ? 0 : 1,
  ];
  const first = [...failed].sort((a, b) => {
    const [ta, sa] = rank(a);
    const [tb, sb] = rank(b);
    return ta - tb || sa - sb;
  })[0]!;
  return first.state!.terminated!.exitCode;
}

function exitsOf(statuses: readonly V1ContainerStatus[]): string | undefined {
  const failed = statuses.filter((s) => (s.state?.terminated?.exitCode ?? 0) !== 0);
  if (failed.length < 2) return undefined;
  return failed
    .map((s) => {
      const t = s.state!.terminated!;
      return `${s.name} exited ${t.exitCode}${t.reason && t.reason !== 'Error' ? ` (${t.reason})` : ''}`;
    })
    .join(', ');
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
    exits: exitsOf(statuses),
    reason: pod.status?.reason,
    stuck: outcome === 'Pending' ? stuckOf(statuses) : undefined,
    killedBecause: killedBecauseOf(statuses),
    startedAt: ms(pod.status?.startTime),
    finishedAt: outcome === 'Succeeded' || outcome === 'Failed' ? finishedAtOf(statuses) : undefined,
    containers: (pod.spec?.containers ?? []).map((c) => c.name),
    deleting: pod.metadata.deletionTimestamp !== undefined,
  };
}
