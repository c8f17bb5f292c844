/**
 * Whether run traces are exported, from the standard OpenTelemetry variables (pure): on when an
 * OTLP endpoint is set, off otherwise or with OTEL_SDK_DISABLED=true / OTEL_TRACES_EXPORTER=none.
 * The exporter itself reads the rest (headers, timeout, compression, batch sizes) from OTEL_*.
 */

export class TracingConfigError extends Error {
  override readonly name = 'TracingConfigError';
}

export interface TracingConfig {
  /** Where spans go (OTLP/HTTP, JSON). */
  readonly endpoint: string;
  readonly serviceName: string;
  /** The batch span processor's settings (OTEL_BSP_*), where set. */
  readonly batch: {
    readonly scheduledDelayMillis?: number;
    readonly maxQueueSize?: number;
    readonly maxExportBatchSize?: number;
    readonly exportTimeoutMillis?: number;
  };
}

const BATCH_VARIABLES = {
  scheduledDelayMillis: 'OTEL_BSP_SCHEDULE_DELAY',
  maxQueueSize: 'OTEL_BSP_MAX_QUEUE_SIZE',
  maxExportBatchSize: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
  exportTimeoutMillis: 'OTEL_BSP_EXPORT_TIMEOUT',
} as const;

function batchOf(env: Env): TracingConfig['batch'] {
  const batch: Record<string, number> = {};
  for (const [key, name] of Object.entries(BATCH_VARIABLES)) {
    const raw = set(env[name]);
    if (raw === undefined) continue;
    if (!/^[0-9]+$/.test(raw) || Number(raw) < 1)
      throw new TracingConfigError(`${name} must be a positive whole number, got "${raw}"`);
    batch[key] = Number(raw);
  }
  return batch;
}

type Env = Readonly<Record<string, string | undefined>>;

const set = (v: string | undefined): string | undefined =>
  v === undefined || v.trim() === '' ? undefined : v.trim();

/** The traces endpoint: the signal's own as given, or the base one with /v1/traces. */
function endpointOf(env: Env): string | undefined {
  const own = set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const base = set(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const url = own ?? (base && `${base.replace(/\/+$/, '')}/v1/traces`);
  if (url === undefined) return undefined;
  const name = own ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TracingConfigError(`${name} must be an http:// or https:// URL, got "${url}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new TracingConfigError(`${name} must be an http:// or https:// URL, got "${url}"`);
  return url;
}

export function tracingConfig(env: Env): TracingConfig | undefined {
  if (set(env.OTEL_SDK_DISABLED)?.toLowerCase() === 'true') return undefined;
  const exporter = set(env.OTEL_TRACES_EXPORTER)?.toLowerCase() ?? 'otlp';
  if (exporter === 'none') return undefined;
  if (exporter !== 'otlp')
    throw new TracingConfigError(`OTEL_TRACES_EXPORTER must be otlp or none, got "${exporter}"`);
  const protocolName = set(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL)
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = set(env[protocolName]);
  if (protocol !== undefined && protocol !== 'http/json' && protocol !== 'http/protobuf')
    throw new TracingConfigError(
      `${protocolName} must be http/json or http/protobuf (spans are sent over OTLP/HTTP), got "${protocol}"`,
    );
  const endpoint = endpointOf(env);
  if (endpoint === undefined) return undefined;
  return { endpoint, serviceName: set(env.OTEL_SERVICE_NAME) ?? 'flexcore', batch: batchOf(env) };
}
