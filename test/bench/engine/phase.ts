/**
 * A phase of the engine benchmark as the machine saw it: its wall time and the CPU seconds
 * each part of the system spent in it (apiserver, etcd, kwok, scheduler, controller-manager,
 * PostgreSQL, the controller, this driver), so what bounds a rate is a number, not a guess.
 */
import { availableParallelism } from 'node:os';
import type { ControlPlane } from '../../../hack/plane/control-plane.js';
import { cpuSpent, pidsNamed, sampleCpu, type CpuSample, type Groups } from '../proc.js';

export interface Phase {
  readonly seconds: number;
  /** CPU seconds per group during the phase. */
  readonly cpu: CpuSample;
}

/** The plane's processes, PostgreSQL's, and this driver's; `extra` adds more (the controllers). */
export function planeGroups(plane: ControlPlane, extra: Groups = {}): Groups {
  const component = (name: string) => (): number[] => {
    const pid = plane.component(name)?.pid;
    return pid ? [pid] : [];
  };
  return {
    'kube-apiserver': component('kube-apiserver'),
    etcd: component('etcd'),
    kwok: component('kwok'),
    'kube-scheduler': component('kube-scheduler'),
    'kube-controller-manager': component('kube-controller-manager'),
    postgres: () => pidsNamed('postgres'),
    ...extra,
    driver: () => [process.pid],
  };
}

/** Starts the clock and the CPU counters now; `end()` reads both. */
export function startPhase(groups: Groups): { end(): Phase } {
  const cpu0 = sampleCpu(groups);
  const t0 = performance.now();
  return {
    end: () => ({ seconds: (performance.now() - t0) / 1000, cpu: cpuSpent(cpu0, sampleCpu(groups)) }),
  };
}

/** One line: wall time, CPU used of the machine's capacity, and CPU seconds per group, largest first. */
export function describePhase(name: string, phase: Phase): string {
  const capacity = phase.seconds * availableParallelism();
  const total = Object.values(phase.cpu).reduce((a, b) => a + b, 0);
  const parts = Object.entries(phase.cpu)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(', ');
  return `  ${name}: ${phase.seconds.toFixed(1)} s wall, CPU ${total.toFixed(1)} s of ${capacity.toFixed(1)} (${((100 * total) / capacity).toFixed(0)} %): ${parts}`;
}
