/** How the benchmark sends work (a closed pool, or an open loop at a fixed rate) and waits for it. */

/** Runs `work` on every item with at most `limit` in flight (closed loop: the next starts when one ends). */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/**
 * Sends item i at `start + i / perSecond` (performance.now() ms), whatever earlier sends are
 * doing: arrivals do not wait for completions (open loop). A late timer sends at once, so the
 * schedule catches up instead of drifting. Resolves when every send has ended; rejects with the
 * first failure.
 */
export async function openLoop<T>(
  items: readonly T[],
  perSecond: number,
  send: (item: T) => Promise<void>,
): Promise<void> {
  const interval = 1000 / perSecond;
  const start = performance.now();
  const errors: unknown[] = [];
  const sends: Promise<void>[] = [];
  for (const [i, item] of items.entries()) {
    const wait = start + i * interval - performance.now();
    if (wait > 0) await sleep(wait);
    sends.push(send(item).catch((err: unknown) => void errors.push(err)));
  }
  await Promise.all(sends);
  if (errors.length) throw errors[0];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `done` every 50 ms; throws `what()` after `timeoutMs`. */
export async function until(done: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`${what()} after ${Math.round(timeoutMs / 1000)} s`);
    await sleep(50);
  }
}
