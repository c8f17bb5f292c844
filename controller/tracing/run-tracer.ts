/**
 * Exports run traces over OTLP/HTTP with the OpenTelemetry SDK. The spans are planned from the
 * recorded events (run-trace.ts); the SDK gives them their planned ids (an id generator fed one
 * span at a time) and times, batches them (OTEL_BSP_*) and sends them. Loaded only when tracing
 * is on, so a controller without it does not carry the SDK.
 */
import { ROOT_CONTEXT, SpanStatusCode, TraceFlags, diag, trace, type Link } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider, type IdGenerator } from '@opentelemetry/sdk-trace';
import type { Logger } from '../log.js';
import { version } from '../version.js';
import type { PlannedSpan, RunTrace } from './run-trace.js';
import type { TracingConfig } from './tracing-config.js';

/** Hands the SDK the ids of the span being started. */
class PlannedIds implements IdGenerator {
  traceId = '';
  spanId = '';
  generateTraceId(): string {
    return this.traceId;
  }
  generateSpanId(): string {
    return this.spanId;
  }
}

export class RunTracer {
  private readonly ids = new PlannedIds();
  private readonly provider: TracerProvider;

  constructor(config: TracingConfig, logger: Logger) {
    // The SDK reports export failures through its diagnostic logger: into ours, once.
    diag.setLogger(
      {
        error: (message, ...args) => logger.warn(`tracing: ${message}`, { details: args.map(String) }),
        warn: (message, ...args) => logger.warn(`tracing: ${message}`, { details: args.map(String) }),
        info: () => undefined,
        debug: () => undefined,
        verbose: () => undefined,
      },
      { suppressOverrideMessage: true },
    );
    const resource = resourceFromAttributes({
      'service.name': config.serviceName,
      'service.version': version(),
    }).merge(detectResources({ detectors: [envDetector] }));
    this.provider = new TracerProvider({
      resource,
      idGenerator: this.ids,
      spanProcessors: [
        new BatchSpanProcessor({
          ...config.batch,
          exporter: new OTLPTraceExporter({ url: config.endpoint }),
        }),
      ],
    });
  }

  /** Queues the run's spans for export (sent in batches in the background). */
  export(run: RunTrace): void {
    const tracer = this.provider.getTracer('flexcore', version());
    const sampled = TraceFlags.SAMPLED;
    const context = (spanId: string): Link['context'] => ({
      traceId: run.traceId,
      spanId,
      traceFlags: sampled,
    });
    for (const s of run.spans) {
      const parent = s.parentSpanId
        ? trace.setSpanContext(ROOT_CONTEXT, { ...context(s.parentSpanId), isRemote: false })
        : ROOT_CONTEXT;
      this.ids.traceId = run.traceId;
      this.ids.spanId = s.spanId;
      const span = tracer.startSpan(
        s.name,
        {
          startTime: new Date(s.startMs),
          attributes: s.attributes,
          links: s.links.map((l) => ({ context: context(l), attributes: { 'flexcore.link': 'retry-of' } })),
        },
        parent,
      );
      setStatus(span, s);
      span.end(new Date(s.endMs));
    }
  }

  /** Sends what is queued. */
  async flush(): Promise<void> {
    await this.provider.forceFlush();
  }

  async shutdown(): Promise<void> {
    await this.provider.shutdown();
  }
}

function setStatus(
  span: { setStatus(s: { code: SpanStatusCode; message?: string }): void },
  s: PlannedSpan,
): void {
  if (s.error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: s.error });
}
