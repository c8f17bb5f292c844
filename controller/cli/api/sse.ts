/**
 * An incremental parser of `text/event-stream` (the WHATWG server-sent-events format): `id:`,
 * `event:`, `data:` and `retry:` fields, a blank line ends a message, lines starting with ':'
 * are comments. Lines end in LF or CRLF (a lone CR, which the format also allows, is not
 * expected from the status API).
 */

export interface SseMessage {
  /** The last event id as of this message (the resume point after it). */
  readonly id: string;
  readonly event: string;
  readonly data: string;
}

export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private pendingId: string;
  /** Id of the last complete message (or id-only heartbeat): what Last-Event-ID resumes from. */
  lastEventId: string;
  /** The reconnection delay the server asked for, in ms. */
  retryMs: number | undefined;

  constructor(lastEventId = '') {
    this.lastEventId = lastEventId;
    this.pendingId = lastEventId;
  }

  /** Feeds decoded text; returns the messages it completed. */
  push(text: string): SseMessage[] {
    this.buffer += text;
    const out: SseMessage[] = [];
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      const message = this.line(line);
      if (message) out.push(message);
    }
    return out;
  }

  /**
   * The connection ended: a message cut off before its blank line is dropped, and its id not
   * taken, so resuming from `lastEventId` delivers it again — once.
   */
  reset(): void {
    this.buffer = '';
    this.data = [];
    this.event = '';
    this.pendingId = this.lastEventId;
  }

  private line(line: string): SseMessage | undefined {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.pendingId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retryMs = Number(value);
    return undefined;
  }

  private dispatch(): SseMessage | undefined {
    this.lastEventId = this.pendingId;
    const data = this.data;
    const event = this.event;
    this.data = [];
    this.event = '';
    if (data.length === 0) return undefined;
    return { id: this.lastEventId, event: event || 'message', data: data.join('\n') };
  }
}
