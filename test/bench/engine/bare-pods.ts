/**
 * The physical limit of the plane, in the same run: N bare restricted Pods through their whole
 * life (created at 64 in flight, bound by the scheduler, run and completed by kwok), timed by
 * an informer that notes when each reached phase Succeeded. The creation-only rate (the clock
 * stopped when the last create was answered) is kept beside it, labelled as such.
 */
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { Informer } from '../../../controller/kube/informer.js';
import { silentLogger } from '../../../controller/log.js';
import type { ControlPlane } from '../../../hack/plane/control-plane.js';
import { createRestrictedNamespace } from '../../../hack/plane/setup.js';
import { restrictedPod } from '../../integration/support/pods.js';
import { latency, type Latency } from '../stats.js';
import { pool, until } from './load.js';
import { planeGroups, startPhase, type Phase } from './phase.js';

export interface BarePodFigures {
  /** N / (last Pod Succeeded − first create sent). */
  readonly completedPerSecond: number;
  readonly createToSucceeded: Latency;
  /** Creation only: N / (last create answered − first create sent). */
  readonly creationOnlyPerSecond: number;
  /** From the first create to the last Pod Succeeded. */
  readonly phase: Phase;
}

export async function barePods(plane: ControlPlane, n: number, concurrency: number): Promise<BarePodFigures> {
  const namespace = `bare-${n}`;
  await createRestrictedNamespace(plane, namespace);
  const kc = plane.kubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const succeeded = new Map<string, number>();
  const pods = new Informer<V1Pod>({
    kubeConfig: kc,
    path: `/api/v1/namespaces/${namespace}/pods`,
    logger: silentLogger,
    resyncMs: 0,
  });
  const onPod = (p: Readonly<V1Pod>): void => {
    const name = p.metadata?.name;
    if (name && p.status?.phase === 'Succeeded' && !succeeded.has(name))
      succeeded.set(name, performance.now());
  };
  pods.onAdd(onPod).onUpdate((_, p) => onPod(p));
  await pods.start();
  try {
    const names = Array.from({ length: n }, (_, i) => `bare-${i}`);
    const sent = new Map<string, number>();
    const phase = startPhase(planeGroups(plane));
    const t0 = performance.now();
    await pool(names, concurrency, async (name) => {
      sent.set(name, performance.now());
      await core.createNamespacedPod({ namespace, body: restrictedPod(name) });
    });
    const created = performance.now();
    await until(
      () => succeeded.size === n,
      15 * 60_000,
      () => `only ${succeeded.size}/${n} bare Pods Succeeded`,
    );
    const last = Math.max(...succeeded.values());
    return {
      completedPerSecond: n / ((last - t0) / 1000),
      createToSucceeded: latency(names.map((x) => succeeded.get(x)! - sent.get(x)!)),
      creationOnlyPerSecond: n / ((created - t0) / 1000),
      phase: phase.end(),
    };
  } finally {
    await pods.stop();
  }
}
