/**
 * A child process of the harness: output to a log file, its own process group so stopping it
 * stops everything it started, and a last-resort kill when the harness process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { ComponentStartError } from './errors.js';

const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous: on 'exit' only sync work runs. SIGKILL the groups so nothing outlives us.
  process.on('exit', () => {
    for (const p of live) p.killNow();
  });
}

export interface StartOptions {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly logPath: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export class ManagedProcess {
  private readonly child: ChildProcess;
  private exitCode: number | null | undefined;
  private readonly exited: Promise<void>;

  private constructor(readonly options: StartOptions) {
    const fd = openSync(options.logPath, 'a');
    try {
      this.child = spawn(options.command, [...options.args], {
        detached: true,
        stdio: ['ignore', fd, fd],
        env: options.env ?? process.env,
        cwd: options.cwd,
      });
    } finally {
      closeSync(fd);
    }
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : null);
        live.delete(this);
        resolve();
      });
      this.child.once('error', () => {
        this.exitCode = 127;
        live.delete(this);
        resolve();
      });
    });
    live.add(this);
    installExitHook();
  }

  static start(options: StartOptions): ManagedProcess {
    return new ManagedProcess(options);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get name(): string {
    return this.options.name;
  }

  /** True once the process has exited. */
  get hasExited(): boolean {
    return this.exitCode !== undefined;
  }

  /** The last lines of the process log, for error messages. */
  logTail(lines = 15): string {
    try {
      return readFileSync(this.options.logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  /** An error saying the process died before it was ready, with what its log says. */
  diedError(): ComponentStartError {
    const tail = this.logTail();
    const inUse = /address already in use|bind: address/.test(tail)
      ? ' (a port it needs is already in use)'
      : '';
    return new ComponentStartError(
      `${this.name} exited with code ${String(this.exitCode)} before it was ready${inUse}; log: ${this.options.logPath}\n${tail}`,
      this.options.logPath,
    );
  }

  /** SIGTERM the process group, SIGKILL after `graceMs`; resolves when it has exited. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.hasExited) return;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** SIGKILL at once, synchronously (used by the exit hook and by crash tests). */
  killNow(): void {
    this.signal('SIGKILL');
  }

  /** Resolves when the process exits. */
  async waitForExit(): Promise<number | null | undefined> {
    await this.exited;
    return this.exitCode;
  }

  private signal(sig: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined || this.hasExited) return;
    try {
      process.kill(-pid, sig);
    } catch {
      // The group is already gone.
    }
  }
}

/**
 * Polls `ready` until it returns true. Fails early when `proc` exits, and with the log path
 * when `timeoutMs` passes.
 */
export async function waitUntilReady(
  proc: ManagedProcess,
  ready: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.hasExited) throw proc.diedError();
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) {
      throw new ComponentStartError(
        `${proc.name} was not ready after ${timeoutMs / 1000} s; log: ${proc.options.logPath}\n${proc.logTail()}`,
        proc.options.logPath,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
