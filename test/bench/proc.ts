/**
 * What processes use, from /proc (Linux): memory of one process, and CPU time by process group
 * (what each part of the system spent during a phase of a benchmark, to say which one bounds it).
 */
import { readdirSync, readFileSync } from 'node:fs';

/** A memory figure of /proc/<pid>/status (VmRSS: now, VmHWM: peak) in MiB; 0 when the process is gone. */
export function memoryMiB(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number {
  if (pid === undefined) return 0;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** Clock ticks per second of /proc/<pid>/stat times; 100 on every Linux this runs on. */
const TICKS = 100;

/** utime + stime of a process in seconds; 0 when it is gone. */
function cpuOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return 0;
  }
}

/** Pids of running processes whose command name (comm) is `name`. */
export function pidsNamed(name: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/comm`, 'utf8').trim() === name;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Which pids make up each named group, asked again at every sample (processes come and go). */
export type Groups = Record<string, () => readonly number[]>;

export type CpuSample = Record<string, number>;

export function sampleCpu(groups: Groups): CpuSample {
  return Object.fromEntries(
    Object.entries(groups).map(([name, pids]) => [name, pids().reduce((s, p) => s + cpuOf(p), 0)]),
  );
}

/** CPU seconds each group spent between two samples. */
export function cpuSpent(before: CpuSample, after: CpuSample): CpuSample {
  return Object.fromEntries(
    Object.keys(after).map((k) => [k, Math.max(0, (after[k] ?? 0) - (before[k] ?? 0))]),
  );
}
