/**
 * One set of metrics per Prometheus registry, created on first use. Several managers may share
 * a registry (a restart in the same process, tests), and prom-client refuses a name twice.
 */
import type { Registry } from 'prom-client';

export function perRegistry<T>(create: (registry: Registry) => T): (registry: Registry) => T {
  const made = new WeakMap<Registry, T>();
  return (registry) => {
    let metrics = made.get(registry);
    if (metrics === undefined) {
      metrics = create(registry);
      made.set(registry, metrics);
    }
    return metrics;
  };
}
