/**
 * Controller replicas as separate OS processes (what a Deployment with several replicas runs):
 * each with its own identity, its log lines kept (JSON), its /metrics and /readyz reachable,
 * and signals a test can send (kill -9, SIGSTOP/SIGCONT, SIGTERM).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from './async.js';

export interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly [field: string]: unknown;
}

export interface Replica {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: LogLine[];
  /** Resolves with the signal or exit code once the process is gone. */
  readonly exited: Promise<NodeJS.Signals | number | null>;
  /** The health/metrics port, once the replica serves it. */
  port(): Promise<number>;
  /** One metric's value summed over every series matching `labels` (0 when absent). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  readyz(): Promise<{ ready: boolean; details?: { leadership?: Record<string, unknown> } }>;
  signal(sig: NodeJS.Signals): void;
  /** When SIGKILL was sent (a killed replica's term ends there). */
  readonly killedAt: number | undefined;
  /** SIGTERM (graceful), waiting for the exit. */
  stop(): Promise<void>;
  alive(): boolean;
}

export function startReplica(name: string, env: NodeJS.ProcessEnv): Replica {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'controller/cli/flexcore.mjs'), 'controller'], {
    cwd: REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', FLEXCORE_PORT: '0', POD_NAME: name, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const lines: LogLine[] = [];
  let gone = false;
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      gone = true;
      resolve(signal ?? code);
    }),
  );
  let resolvePort: (p: number) => void = () => undefined;
  const portKnown = new Promise<number>((resolve) => (resolvePort = resolve));
  createInterface({ input: child.stderr }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { level: 'raw', message: text };
    }
    lines.push(line);
    if (line.message === 'serving /healthz, /readyz and /metrics') resolvePort(Number(line.port));
  });
  const port = async (): Promise<number> =>
    Promise.race([
      portKnown,
      exited.then((how) => {
        throw new Error(`replica ${name} exited (${String(how)}) before serving: ${tail(lines)}`);
      }),
    ]);
  const get = async (path: string): Promise<Response> => fetch(`http://127.0.0.1:${await port()}${path}`);
  let killedAt: number | undefined;
  return {
    name,
    child,
    lines,
    exited,
    get killedAt() {
      return killedAt;
    },
    port,
    async metric(metric, labels = {}) {
      const text = await (await get('/metrics')).text();
      let sum = 0;
      for (const row of text.split('\n')) {
        const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(row);
        if (!m || m[1] !== metric) continue;
        const ok = Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`));
        if (ok) sum += Number(m[3]);
      }
      return sum;
    },
    async readyz() {
      return (await (await get('/readyz')).json()) as Awaited<ReturnType<Replica['readyz']>>;
    },
    signal(sig) {
      if (gone) return;
      if (sig === 'SIGKILL') killedAt ??= Date.now();
      child.kill(sig);
    },
    async stop() {
      if (!gone) child.kill('SIGTERM');
      await exited;
    },
    alive: () => !gone,
  };
}

/** The last log lines of a replica, for failure messages. */
export function tail(lines: readonly LogLine[], n = 8): string {
  return lines
    .slice(-n)
    .map((l) => JSON.stringify(l))
    .join('\n');
}

/** Log lines of acquisitions: scope, token and time, in the order they were logged. */
export function acquisitions(r: Replica): { scope: string; token: number; at: number }[] {
  return r.lines
    .filter((l) => l.message === 'acquired leadership')
    .map((l) => ({ scope: String(l.scope), token: Number(l.token), at: Date.parse(String(l.timestamp)) }));
}

export interface TermSpan {
  readonly replica: string;
  readonly scope: string;
  readonly token: number;
  readonly from: number;
  /** When it ended: logged loss or release, the kill, or still running (Infinity). */
  readonly to: number;
}

/** Every term a replica held, from its log (a kill -9 ends its terms at the kill). */
export function terms(r: Replica): TermSpan[] {
  const open = new Map<string, { token: number; from: number }>();
  const spans: TermSpan[] = [];
  for (const l of r.lines) {
    const scope = String(l.scope);
    const at = Date.parse(String(l.timestamp));
    if (l.message === 'acquired leadership') open.set(scope, { token: Number(l.token), from: at });
    else if ((l.message === 'lost leadership' || l.message === 'released leadership') && open.has(scope)) {
      spans.push({ replica: r.name, scope, ...open.get(scope)!, to: at });
      open.delete(scope);
    }
  }
  for (const [scope, t] of open) spans.push({ replica: r.name, scope, ...t, to: r.killedAt ?? Infinity });
  return spans;
}
