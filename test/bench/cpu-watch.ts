/**
 * CPU seconds by part of the system over a span, for a benchmark that must say what bounds it.
 * Sampled from /proc once a second, so processes that start and end inside the span (a Singer
 * pair, a Pod's containers) count too; a process loses at most its last second. Processes are
 * told apart by ancestry: this benchmark's own children (plane, databases, the shell pipe),
 * the real node's containers (under containerd-shim), and everything else on the machine.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc times; 100 on every Linux this runs on. */
const TICKS = 100;

interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
  readonly start: string;
  readonly cpu: number;
  /** Of `cpu`, the time in the kernel (system calls; network work is charged here). */
  readonly sys: number;
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    // Fields after the command (which may contain spaces) start after the last ')'.
    const f = stat.slice(close + 2).split(' ');
    const sys = Number(f[12]) / TICKS;
    return { pid, ppid: Number(f[1]), comm, start: f[19]!, cpu: Number(f[11]) / TICKS + sys, sys };
  } catch {
    return undefined;
  }
}

function allProcs(): Map<number, Proc> {
  const procs = new Map<number, Proc>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const p = readProc(Number(d));
    if (p) procs.set(p.pid, p);
  }
  return procs;
}

/** The machine's CPU seconds from /proc/stat. */
function machine(): { busy: number; softirq: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / TICKS, softirq: softirq / TICKS, total: (busy + idle + iowait) / TICKS };
}

/** The part for every process this benchmark did not start (another suite, the kernel's threads). */
export const FOREIGN = 'not this bench';

const PLANE = new Set(['etcd', 'kube-apiserver', 'kube-scheduler', 'kube-controller', 'kwok']);
const NODE = new Set(['kubelet', 'containerd', 'containerd-shim', 'kube-proxy', 'runc']);

/** The part a process belongs to, from its command name and where it descends from. */
function partOf(p: Proc, procs: ReadonlyMap<number, Proc>): string {
  if (p.pid === process.pid) return 'bench and controller';
  if (p.comm === 'tap-postgres') return 'tap';
  if (p.comm.startsWith('target-')) return 'target';
  if (NODE.has(p.comm)) return 'node';
  for (let q = procs.get(p.ppid); q; q = procs.get(q.ppid)) {
    if (q.comm === 'containerd-shim') return 'pod, other';
    if (q.pid === process.pid) {
      if (p.comm === 'postgres') return 'postgres';
      return PLANE.has(p.comm) ? 'plane' : 'bench, other';
    }
  }
  return FOREIGN;
}

/** What a span cost: CPU seconds by part, and the machine's busy, softirq and total seconds. */
export interface CpuReport {
  readonly parts: Record<string, number>;
  /** Of each part's seconds, those in the kernel. */
  readonly sys: Record<string, number>;
  readonly busy: number;
  readonly softirq: number;
  readonly total: number;
}

/** A running watch; stop() ends it and reports. */
export class CpuWatch {
  private readonly seen = new Map<
    string,
    { part: string; first: number; last: number; firstSys: number; lastSys: number }
  >();
  private readonly machine0 = machine();
  private readonly timer: NodeJS.Timeout;

  private constructor(intervalMs: number) {
    this.sample(true);
    this.timer = setInterval(() => this.sample(false), intervalMs);
  }

  static start(intervalMs = 1000): CpuWatch {
    return new CpuWatch(intervalMs);
  }

  private sample(baseline: boolean): void {
    const procs = allProcs();
    for (const p of procs.values()) {
      const key = `${p.pid}:${p.start}`;
      const known = this.seen.get(key);
      if (known) {
        known.last = p.cpu;
        known.lastSys = p.sys;
      }
      // A process born inside the span counts from 0.
      else
        this.seen.set(key, {
          part: partOf(p, procs),
          first: baseline ? p.cpu : 0,
          last: p.cpu,
          firstSys: baseline ? p.sys : 0,
          lastSys: p.sys,
        });
    }
  }

  stop(): CpuReport {
    clearInterval(this.timer);
    this.sample(false);
    const m = machine();
    const parts: Record<string, number> = {};
    const sys: Record<string, number> = {};
    for (const s of this.seen.values()) {
      parts[s.part] = (parts[s.part] ?? 0) + (s.last - s.first);
      sys[s.part] = (sys[s.part] ?? 0) + (s.lastSys - s.firstSys);
    }
    return {
      parts,
      sys,
      busy: m.busy - this.machine0.busy,
      softirq: m.softirq - this.machine0.softirq,
      total: m.total - this.machine0.total,
    };
  }
}

/**
 * Beyond this share of one core spent by processes the benchmark did not start, a span is
 * disturbed: on two cores such a neighbour moves a figure by more than a 5 % goal. (In a quiet
 * span the kernel's own threads take about 0.2 %.)
 */
export const FOREIGN_LIMIT = 0.02;

/** True when processes the benchmark did not start took more than FOREIGN_LIMIT of a core. */
export function disturbed(r: CpuReport, seconds: number): boolean {
  return (r.parts[FOREIGN] ?? 0) > FOREIGN_LIMIT * seconds;
}

/** One line: the parts largest first (kernel time in brackets where it is 1 s or more), then the machine. */
export function formatCpu(r: CpuReport): string {
  const parts = Object.entries(r.parts)
    .filter(([, s]) => s >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([k, s]) => {
      const sys = r.sys[k] ?? 0;
      return `${k} ${s.toFixed(1)}${sys >= 1 ? ` (sys ${sys.toFixed(1)})` : ''}`;
    })
    .join(', ');
  return `CPU s: ${parts}; machine busy ${r.busy.toFixed(1)} of ${r.total.toFixed(1)} (softirq ${r.softirq.toFixed(1)})`;
}
