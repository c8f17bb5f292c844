/**
 * The plane's processes, in start order, each kept with the readiness probe it was started
 * with, so a fault-injection test can restart one exactly as it first ran.
 */
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManagedProcess, waitUntilReady } from './process.js';

/** How to tell a component is ready: at start and after a restart. */
export interface Readiness {
  readonly probe: () => Promise<boolean>;
  readonly timeoutMs: number;
  readonly intervalMs: number;
}

/** A readiness probe with the plane's usual patience (60 s, polled every 200 ms). */
export function readiness(probe: () => Promise<boolean>, timeoutMs = 60_000, intervalMs = 200): Readiness {
  return { probe, timeoutMs, intervalMs };
}

/** How ControlPlane.restart stops a component and how long it stays down. */
export interface RestartOptions {
  /** Stay down this long before starting again (default 0). */
  readonly downMs?: number;
  /** SIGKILL instead of SIGTERM: a crash rather than a shutdown. */
  readonly kill?: boolean;
}

/** Starts the plane's processes, finds them by name and restarts them. */
export class Components {
  private readonly processes: ManagedProcess[] = [];
  private readonly ready = new Map<string, Readiness>();

  /** `binDir` holds the binaries; `dir` gets one `<name>.log` each. */
  constructor(
    private readonly binDir: string,
    private readonly dir: string,
  ) {}

  /** Starts binary `name` (or `command`) with `args` and waits until `ready` says so. */
  async start(
    name: string,
    args: string[],
    ready: Readiness,
    command = join(this.binDir, name),
  ): Promise<ManagedProcess> {
    const p = ManagedProcess.start({ name, command, args, logPath: join(this.dir, `${name}.log`) });
    this.processes.push(p);
    this.ready.set(name, ready);
    await waitUntilReady(p, ready.probe, ready.timeoutMs, ready.intervalMs);
    return p;
  }

  /** The current process of component `name`. */
  get(name: string): ManagedProcess | undefined {
    return this.processes.find((p) => p.name === name);
  }

  /** Every current process, in start order. */
  all(): readonly ManagedProcess[] {
    return [...this.processes];
  }

  /**
   * Stops `name` (SIGTERM, SIGKILL after 5 s; or SIGKILL at once with `kill`), waits `downMs`,
   * starts it again with the same command, arguments and log file (appended to), and waits
   * until it is ready as at start. Also brings back a component that already died.
   */
  async restart(name: string, options: RestartOptions = {}): Promise<ManagedProcess> {
    const index = this.processes.findIndex((p) => p.name === name);
    const old = this.processes[index];
    const ready = this.ready.get(name);
    if (!old || !ready) {
      throw new Error(
        `no component named ${name}; there are ${this.processes.map((p) => p.name).join(', ')}`,
      );
    }
    if (options.kill) {
      old.killNow();
      await old.waitForExit();
    } else {
      await old.stop();
    }
    if (options.downMs) await new Promise((r) => setTimeout(r, options.downMs));
    await appendFile(
      old.options.logPath,
      `\n--- restarted by the harness at ${new Date().toISOString()} ---\n`,
    );
    const next = ManagedProcess.start(old.options);
    this.processes[index] = next;
    await waitUntilReady(next, ready.probe, ready.timeoutMs, ready.intervalMs);
    return next;
  }
}
