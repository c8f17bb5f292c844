/**
 * Benchmark: warm start of the local control plane (binaries already built), and the memory
 * the running plane uses. Prints the median and every run.
 *
 *   node --import tsx test/bench/plane-start.ts [runs=5]
 */
import { readFile } from 'node:fs/promises';
import { ControlPlane } from '../../hack/plane/control-plane.js';
import { installCrds } from '../../hack/plane/setup.js';
import { ensureTools } from '../../hack/plane/tools.js';

const COMPONENTS = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kwok'];

async function rssMiB(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

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
    const perComponent = await Promise.all(COMPONENTS.map((c) => rssMiB(plane.component(c)?.pid)));
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
