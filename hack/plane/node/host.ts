/**
 * The real node's footprint on the host, and how to remove it: the node address on `lo`, the
 * bridge, mounts under the node's directories, containerd shims that outlived a crashed run,
 * and the lock that keeps one real node per machine (kube-proxy's iptables chains are global).
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { PrerequisiteError } from '../errors.js';
import { NODE_NETWORK } from './node-config.js';

const run = promisify(execFile);

/** Runs a host command; resolves with stdout, or rejects with its stderr. */
export async function host(cmd: string, args: string[]): Promise<string> {
  try {
    return (await run(cmd, args, { maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(e.stderr ?? '').trim() || e.message}`);
  }
}

/** Like host() but a failure is ignored (clean-up of what may not be there). */
export async function hostQuiet(cmd: string, args: string[]): Promise<void> {
  await host(cmd, args).catch(() => undefined);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the machine's real-node lock (a file holding our pid). A lock whose process is gone is
 * taken over; a live one is waited for up to `waitMs` (another test run on this machine), then
 * an error naming its pid.
 */
export async function takeNodeLock(
  path: string,
  waitMs = 0,
  log: (line: string) => void = () => undefined,
): Promise<() => Promise<void>> {
  await mkdir(new URL('.', `file://${path}`).pathname, { recursive: true });
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return async () => {
        const holder = await readFile(path, 'utf8').catch(() => '');
        if (holder === String(process.pid)) await rm(path, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(await readFile(path, 'utf8').catch(() => '0'));
      if (!(pid > 0 && alive(pid))) {
        await rm(path, { force: true });
        continue;
      }
      if (Date.now() >= deadline) {
        throw new PrerequisiteError(
          `another real node runs on this machine (process ${pid} holds ${path}); one at a time, as kube-proxy's iptables rules are machine-wide`,
        );
      }
      if (!told) log(`waiting for the real node of process ${pid} to stop (one per machine)`);
      told = true;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** Adds the node address to `lo` (idempotent). */
export async function addNodeAddress(): Promise<void> {
  const addrs = await host('ip', ['-o', 'addr', 'show', 'dev', 'lo']);
  if (!addrs.includes(` ${NODE_NETWORK.nodeIp}/`)) {
    await host('ip', ['addr', 'add', `${NODE_NETWORK.nodeIp}/32`, 'dev', 'lo']);
  }
}

/** Every mount point at or under one of `dirs`, deepest first. */
export function mountsUnder(dirs: readonly string[], mountinfo: string): string[] {
  const points = mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    // mountinfo escapes spaces and the like as octal.
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => dirs.some((d) => p === d || p.startsWith(`${d}/`)));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** Unmounts (lazily, so a busy one goes when released) everything under `dirs`. */
export async function unmountUnder(dirs: readonly string[]): Promise<void> {
  const info = readFileSync('/proc/self/mountinfo', 'utf8');
  for (const point of mountsUnder(dirs, info)) await hostQuiet('umount', ['-l', point]);
}

/**
 * Processes whose command line mentions `needle` (containerd shims started for our socket
 * survive containerd and the harness; they hold the containers).
 */
export function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(needle)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

/** SIGKILLs the processes whose command line mentions `needle` and what runs in their cgroups. */
export function killProcessesMentioning(needle: string): number {
  const pids = processesMentioning(needle);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
  return pids.length;
}

/** The container processes runc started under `stateRoot` (runc's --root), by their state. */
export function runcInitPids(stateRoot: string): number[] {
  const pids: number[] = [];
  let ids: string[] = [];
  try {
    ids = readdirSync(stateRoot);
  } catch {
    return pids;
  }
  for (const id of ids) {
    try {
      const state = JSON.parse(readFileSync(`${stateRoot}/${id}/state.json`, 'utf8')) as {
        init_process_pid?: number;
      };
      if (state.init_process_pid && alive(state.init_process_pid)) pids.push(state.init_process_pid);
    } catch {
      // Not a container directory.
    }
  }
  return pids;
}

/** Removes the bridge; the CNI bridge plugin makes it again for the first Pod. */
export async function removeBridge(): Promise<void> {
  await hostQuiet('ip', ['link', 'del', NODE_NETWORK.bridge]);
}

/**
 * Removes the KUBE-FIREWALL chain the kubelet adds (it drops packets to 127/8 from other
 * addresses) from iptables and ip6tables.
 */
export async function removeKubeletChains(): Promise<void> {
  for (const cmd of ['iptables', 'ip6tables']) {
    for (const chain of ['INPUT', 'OUTPUT']) {
      await hostQuiet(cmd, ['-w', '5', '-D', chain, '-j', 'KUBE-FIREWALL']);
    }
    await hostQuiet(cmd, ['-w', '5', '-F', 'KUBE-FIREWALL']);
    await hostQuiet(cmd, ['-w', '5', '-X', 'KUBE-FIREWALL']);
  }
}

/** Removes `dir` after unmounting anything below it. */
export async function removeDir(dir: string): Promise<void> {
  await unmountUnder([dir]);
  await rm(dir, { recursive: true, force: true });
}
