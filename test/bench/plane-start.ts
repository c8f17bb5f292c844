/**
 * Benchmark: warm start of the local control plane (binaries already built), and the memory
 * the running plane uses. Prints the median and every run.
 *
 *   node --import tsx test/bench/plane-start.ts [runs=5]
 */
import { ControlPlane } from '../../hack/plane/control-plane.js';
import { installCrds } from '../../hack/plane/setup.js';
import { ensureTools } from '../../hack/plane/tools.js';
import { memoryMiB } from './proc.js';
import { median } from './stats.js';

const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'];

const runs = Number(process.argv[2] ?? 5);
await ensureTools();
const starts: number[] = [];
const rss: number[] = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const plane = await ControlPlane.start();
  starts.push((performance.now() - t0) / 1000);
  try {
    await installCrds(plane);
    await new Promise((r) => setTimeout(r, 5000)); // let the components settle before measuring memory
    const perComponent = COMPONENTS.map((c) => memoryMiB(plane.component(c)?.pid, 'VmRSS'));
    rss.push(perComponent.reduce((a, b) => a + b, 0));
    if (i === 0) {
      console.log(
        'RSS by component (MiB):',
        Object.fromEntries(COMPONENTS.map((c, j) => [c, Math.round(perComponent[j]!)])),
      );
    }
  } finally {
    await plane.stop();
  }
}
console.log(
  `warm start (s): median ${median(starts).toFixed(2)}; runs ${starts.map((s) => s.toFixed(2)).join(', ')}`,
);
console.log(
  `plane RSS (MiB): median ${median(rss).toFixed(0)}; runs ${rss.map((r) => r.toFixed(0)).join(', ')}`,
);
