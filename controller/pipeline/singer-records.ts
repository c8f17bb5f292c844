/**
 * Singer record counts from a plugin's log (pure). singer-sdk taps and targets, and
 * singer-python taps, log counters as `METRIC: {"type": "counter", "metric": "record_count",
 * "value": n, "tags": {"stream": ...}}` (singer-python tags `endpoint`); each line carries the
 * count since the previous one for that stream, so the sum is the attempt's total.
 */

export interface RecordCounts {
  /** Records by stream. */
  readonly streams: Readonly<Record<string, number>>;
  /**
   * Not every record was counted: more streams than MAX_STREAMS, a sum past 2^53, or a log
   * longer than what is read of it.
   */
  readonly truncated: boolean;
}

/** Streams counted per container: a bound on the event's size and the metric's series. */
export const MAX_STREAMS = 500;
const MAX_STREAM_NAME = 253;
// PostgreSQL's jsonb takes no NUL, and the name becomes a label value: no control characters.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/g;
// Half a surrogate pair (a name cut in the middle of an emoji) is not valid UTF-8 either.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A stream name fit for the event and the label: printable, well-formed, bounded. */
function streamName(raw: unknown): string {
  if (typeof raw !== 'string') return '(unnamed)';
  const name = raw.replace(CONTROL, '').slice(0, MAX_STREAM_NAME).replace(LONE_SURROGATE, '\ufffd');
  return name === '' ? '(unnamed)' : name;
}
const MARKER = 'METRIC: ';

interface Counter {
  readonly stream: string;
  readonly value: number;
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** The record_count counter of one log line, if it is one. */
export function recordCountOf(line: string): Counter | undefined {
  const at = line.indexOf(MARKER);
  if (at < 0) return undefined;
  let metric: Record<string, unknown> | undefined;
  try {
    metric = asObject(JSON.parse(line.slice(at + MARKER.length)));
  } catch {
    return undefined;
  }
  if (metric?.type !== 'counter' || metric.metric !== 'record_count') return undefined;
  const value = metric.value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) return undefined;
  const tags = asObject(metric.tags);
  return { stream: streamName(tags?.stream ?? tags?.endpoint), value };
}

/** Sums the record_count lines fed to it, line by line (a log read as a stream). */
export class RecordCounter {
  private readonly streams = new Map<string, number>();
  private truncated = false;

  add(line: string): void {
    const c = recordCountOf(line);
    if (!c) return;
    const sum = this.streams.get(c.stream);
    if (sum === undefined && this.streams.size >= MAX_STREAMS) this.truncated = true;
    else if ((sum ?? 0) + c.value > Number.MAX_SAFE_INTEGER) this.truncated = true;
    else this.streams.set(c.stream, (sum ?? 0) + c.value);
  }

  /** The log was cut before its end: what it held past the cut is not counted. */
  cut(): void {
    this.truncated = true;
  }

  /** The counts, or undefined when no record_count line was seen. */
  counts(): RecordCounts | undefined {
    if (this.streams.size === 0) return undefined;
    return { streams: Object.fromEntries(this.streams), truncated: this.truncated };
  }
}

/** The counts of a whole log held in memory. */
export function countRecords(log: string): RecordCounts | undefined {
  const counter = new RecordCounter();
  for (const line of log.split('\n')) counter.add(line);
  return counter.counts();
}

/** Whether a log may hold counts: cheap, to decide whether to read a whole log for them. */
export const mentionsMetrics = (log: string): boolean => log.includes(MARKER);
