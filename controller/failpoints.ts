/**
 * Failpoints for crash tests (etcd's gofail idea, tiny): FLEXCORE_FAILPOINTS="after-append=5"
 * makes the process SIGKILL itself at the 5th time it passes `after-append`;
 * "before-append=5:stop" makes it SIGSTOP itself there instead (a frozen leader, woken later by
 * SIGCONT, goes on exactly from that point). Unset in production, where `hit` is a no-op.
 */

type Action = 'SIGKILL' | 'SIGSTOP';

export class Failpoints {
  private readonly counts = new Map<string, number>();

  constructor(private readonly armed: ReadonlyMap<string, { at: number; action: Action }>) {}

  /** Parses `name=n[:stop],...`; malformed entries are ignored. */
  static fromEnv(value: string | undefined): Failpoints | undefined {
    if (!value) return undefined;
    const armed = new Map<string, { at: number; action: Action }>();
    for (const part of value.split(',')) {
      const [name, spec] = part.split('=');
      const [n, how] = (spec ?? '').split(':');
      if (name && Number(n) > 0)
        armed.set(name.trim(), { at: Number(n), action: how === 'stop' ? 'SIGSTOP' : 'SIGKILL' });
    }
    return armed.size ? new Failpoints(armed) : undefined;
  }

  hit(name: string): void {
    const point = this.armed.get(name);
    if (point === undefined) return;
    const count = (this.counts.get(name) ?? 0) + 1;
    this.counts.set(name, count);
    if (count === point.at) process.kill(process.pid, point.action);
  }
}
