/**
 * Failpoints for crash tests (etcd's gofail idea, tiny): FLEXCORE_FAILPOINTS="after-append=5"
 * makes the process SIGKILL itself at the 5th time it passes `after-append`. Unset in
 * production, where `hit` is a no-op.
 */

export class Failpoints {
  private readonly counts = new Map<string, number>();

  constructor(private readonly armed: ReadonlyMap<string, number>) {}

  /** Parses `name=n,name=n`; malformed entries are ignored. */
  static fromEnv(value: string | undefined): Failpoints | undefined {
    if (!value) return undefined;
    const armed = new Map<string, number>();
    for (const part of value.split(',')) {
      const [name, n] = part.split('=');
      if (name && Number(n) > 0) armed.set(name.trim(), Number(n));
    }
    return armed.size ? new Failpoints(armed) : undefined;
  }

  hit(name: string): void {
    const at = this.armed.get(name);
    if (at === undefined) return;
    const count = (this.counts.get(name) ?? 0) + 1;
    this.counts.set(name, count);
    if (count === at) process.kill(process.pid, 'SIGKILL');
  }
}
