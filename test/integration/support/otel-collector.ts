/**
 * A real OpenTelemetry Collector (built by `hack/build-tools.sh --observability`): OTLP/HTTP
 * in on a free port, every span received written to a file as OTLP JSON, read back flat.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../../hack/plane/ports.js';
import { observabilityTools } from '../../../hack/plane/tools.js';
import { eventually } from './engine.js';

/** A received span, as OTLP JSON has it, with its resource's service.name. */
export interface ReceivedSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
  readonly attributes: Record<string, unknown>;
  readonly status: { code?: number; message?: string };
  readonly links: { traceId: string; spanId: string }[];
}

export interface Collector {
  /** The OTLP/HTTP base URL (OTEL_EXPORTER_OTLP_ENDPOINT). */
  readonly endpoint: string;
  spans(): Promise<ReceivedSpan[]>;
  stop(): Promise<void>;
}

type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
};
const valueOf = (v: AnyValue): unknown =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue));
const attributesOf = (list: { key: string; value: AnyValue }[] | undefined): Record<string, unknown> =>
  Object.fromEntries((list ?? []).map((a) => [a.key, valueOf(a.value)]));

interface TracesData {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: AnyValue }[] };
    scopeSpans?: {
      spans?: (Omit<ReceivedSpan, 'service' | 'attributes'> & {
        attributes?: { key: string; value: AnyValue }[];
      })[];
    }[];
  }[];
}

function flatten(line: string): ReceivedSpan[] {
  const data = JSON.parse(line) as TracesData;
  return (data.resourceSpans ?? []).flatMap((rs) => {
    const service = String(attributesOf(rs.resource?.attributes)['service.name']);
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        ...s,
        service,
        parentSpanId: s.parentSpanId ?? '',
        attributes: attributesOf(s.attributes),
        status: s.status ?? {},
        links: (s.links ?? []).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
      })),
    );
  });
}

export async function startCollector(): Promise<Collector> {
  const { otelcol } = await observabilityTools();
  const dir = await mkdtemp(join(tmpdir(), 'fc-otelcol-'));
  const port = await freePort();
  const file = join(dir, 'spans.jsonl');
  const config = join(dir, 'config.yaml');
  await writeFile(
    config,
    [
      'receivers:',
      '  otlp:',
      '    protocols:',
      '      http:',
      `        endpoint: 127.0.0.1:${port}`,
      'exporters:',
      '  file:',
      `    path: ${file}`,
      '    flush_interval: 100ms',
      'service:',
      '  telemetry:',
      '    metrics:',
      '      level: none',
      '  pipelines:',
      '    traces:',
      '      receivers: [otlp]',
      '      exporters: [file]',
      '',
    ].join('\n'),
  );
  let log = '';
  const child: ChildProcess = spawn(otelcol, ['--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (log += d.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    // Ready when the receiver answers (an empty export is accepted).
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`otelcol exited ${child.exitCode}:\n${log}`);
        const res = await fetch(`${endpoint}/v1/traces`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: '{}',
        }).catch(() => undefined);
        return res?.ok;
      },
      30_000,
      'the collector to listen',
    );
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    endpoint,
    async spans() {
      const text = await readFile(file, 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter((l) => l.trim() !== '')
        .flatMap(flatten);
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
