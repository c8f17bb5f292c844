/**
 * Prometheus metrics of reconciles, with controller-runtime's names, labels and help texts, so
 * the dashboards and alerts written for controller-runtime operators work unchanged.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { perRegistry } from '../per-registry.js';

/** The `result` label of controller_runtime_reconcile_total. */
export type ReconcileResultLabel = 'success' | 'error' | 'requeue' | 'requeue_after';

const resultLabels: readonly ReconcileResultLabel[] = ['success', 'error', 'requeue', 'requeue_after'];

// controller-runtime's buckets for reconcile_time_seconds.
const reconcileBuckets = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25,
  1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];

/** The reconcile metrics of one registry, labelled by controller name. */
export interface ReconcileMetrics {
  readonly total: Counter<'controller' | 'result'>;
  readonly errors: Counter<'controller'>;
  readonly terminalErrors: Counter<'controller'>;
  readonly time: Histogram<'controller'>;
  readonly activeWorkers: Gauge<'controller'>;
  readonly maxConcurrentReconciles: Gauge<'controller'>;
}

/** The reconcile metrics of `registry`, created on first use; later calls return the same set. */
export const reconcileMetrics = perRegistry(createReconcileMetrics);

/** Creates the series of one controller at zero, as controller-runtime does when a controller starts. */
export function initReconcileSeries(metrics: ReconcileMetrics, controller: string, workers: number): void {
  for (const result of resultLabels) metrics.total.inc({ controller, result }, 0);
  metrics.errors.inc({ controller }, 0);
  metrics.terminalErrors.inc({ controller }, 0);
  metrics.activeWorkers.set({ controller }, 0);
  metrics.maxConcurrentReconciles.set({ controller }, workers);
}

function createReconcileMetrics(registry: Registry): ReconcileMetrics {
  const registers = [registry];
  const labelNames = ['controller'] as const;
  return {
    total: new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'] as const,
      registers,
    }),
    errors: new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames,
      registers,
    }),
    terminalErrors: new Counter({
      name: 'controller_runtime_terminal_reconcile_errors_total',
      help: 'Total number of terminal reconciliation errors per controller',
      labelNames,
      registers,
    }),
    time: new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      buckets: reconcileBuckets,
      labelNames,
      registers,
    }),
    activeWorkers: new Gauge({
      name: 'controller_runtime_active_workers',
      help: 'Number of currently used workers per controller',
      labelNames,
      registers,
    }),
    maxConcurrentReconciles: new Gauge({
      name: 'controller_runtime_max_concurrent_reconciles',
      help: 'Maximum number of concurrent reconciles per controller',
      labelNames,
      registers,
    }),
  };
}
