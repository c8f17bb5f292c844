/**
 * Kubernetes API requests a controller made, by verb and resource, read from its Prometheus
 * text: `flexcore_kube_api_requests_total{verb,resource,code}`, or where a controller does not
 * have that metric yet, `rest_client_requests_total{method,code}` (resource then shows as `*`).
 * Informer lists and watches are in neither: they do not go through the controller's client.
 */

/** Request counts keyed `verb resource`, with ` <code>` appended for answers other than 2xx. */
export type RequestCounts = Record<string, number>;

const METRIC = 'flexcore_kube_api_requests_total';
const FALLBACK = 'rest_client_requests_total';

/** Label name → value of one sample line's `{...}`. */
function labelsOf(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]));
}

function keyOf(labels: Record<string, string>): string {
  const verb = labels.verb ?? labels.method ?? '?';
  const code = labels.code ?? '';
  return `${verb} ${labels.resource ?? '*'}${code.startsWith('2') ? '' : ` ${code}`}`;
}

/** The request counts in one /metrics text; the FlexCore metric wins whenever it is declared. */
export function parseRequests(text: string): RequestCounts {
  const name = text.includes(`# TYPE ${METRIC} `) ? METRIC : FALLBACK;
  const counts: RequestCounts = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const key = keyOf(labelsOf(m[2] ?? ''));
    counts[key] = (counts[key] ?? 0) + Number(m[3]);
  }
  return counts;
}

export function addCounts(a: RequestCounts, b: RequestCounts): RequestCounts {
  const sum = { ...a };
  for (const [k, v] of Object.entries(b)) sum[k] = (sum[k] ?? 0) + v;
  return sum;
}

/** (after − before) / per, kinds that did not change left out. */
export function countsPer(after: RequestCounts, before: RequestCounts, per: number): RequestCounts {
  return Object.fromEntries(
    Object.entries(after)
      .map(([k, v]) => [k, (v - (before[k] ?? 0)) / per] as const)
      .filter(([, v]) => v !== 0),
  );
}

export function totalOf(counts: RequestCounts): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** `create pods 1.00, patch flexpipelines/status 2.00, …`, most frequent first. */
export function describeCounts(counts: RequestCounts): string {
  return Object.entries(counts)
    .filter(([, v]) => v !== 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ');
}
