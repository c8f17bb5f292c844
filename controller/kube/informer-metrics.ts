/** Prometheus metrics of informers; one set per registry, shared by every informer (label `resource`). */
import { Counter, Gauge, type Registry } from 'prom-client';

/** Why a watch ended and was opened again. */
export type WatchRestartReason = 'closed' | 'error' | 'gone' | 'watchdog';

export interface InformerMetrics {
  readonly watchRestarts: Counter<'resource' | 'reason'>;
  readonly relists: Counter<'resource'>;
  readonly synced: Gauge<'resource'>;
}

/**
 * The metrics of an informer that shares its `resource` label with others (one per namespace in
 * NamespacedInformers): restarts and relists add up; `synced` is left to their owner, which
 * sets it to 1 only while every one of them is synced.
 */
export type SharedInformerMetrics = Pick<InformerMetrics, 'watchRestarts' | 'relists'> & {
  readonly synced?: undefined;
};

/** Registers the informer metrics in `registry`; call once and pass the result to every informer. */
export function informerMetrics(registry: Registry): InformerMetrics {
  return {
    watchRestarts: new Counter({
      name: 'flexcore_informer_watch_restarts_total',
      help: 'Watches that ended and were restarted, by reason: closed (by the server), error, gone (410, relist follows), watchdog (silent too long).',
      labelNames: ['resource', 'reason'],
      registers: [registry],
    }),
    relists: new Counter({
      name: 'flexcore_informer_relists_total',
      help: 'Full lists that replaced an already synced cache (after a 410 or a lost watch history).',
      labelNames: ['resource'],
      registers: [registry],
    }),
    synced: new Gauge({
      name: 'flexcore_informer_synced',
      help: '1 once the informer has listed its resource and until it is stopped.',
      labelNames: ['resource'],
      registers: [registry],
    }),
  };
}

/**
 * The metric label for a collection path, as kubectl names resources: `pods` for
 * `/api/v1/namespaces/x/pods`, `flexpipelines.flexcore.io` for `/apis/flexcore.io/v1alpha1/flexpipelines`.
 */
export function resourceLabel(path: string): string {
  const parts = path.split('?')[0]!.split('/').filter(Boolean);
  const plural = parts.at(-1) ?? path;
  return parts[0] === 'apis' && parts[1] ? `${plural}.${parts[1]}` : plural;
}
