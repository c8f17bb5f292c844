/** Reads one series of a prom-client metric in unit tests. */
import type { Registry } from 'prom-client';

/** The value of `series` (default: the metric itself) of metric `name` with `labels`, if any. */
export async function sample(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
  series = name,
): Promise<number | undefined> {
  const data = await registry.getSingleMetric(name)?.get();
  const match = data?.values.find(
    (v) =>
      ((v as { metricName?: string }).metricName ?? name) === series &&
      Object.entries(labels).every(([k, want]) => v.labels[k] === want),
  );
  return match?.value;
}
