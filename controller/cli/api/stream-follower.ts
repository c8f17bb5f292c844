/**
 * Follows a server-sent-events stream across dropped connections: each reconnect sends
 * Last-Event-ID = the last complete message's id, after the `retry:` delay the server asked
 * for, so no event is lost or repeated. Refusals (401, 403, 400, 404) end it; so does a server
 * that cannot be reached at all on the first try.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { ApiClientError } from './api-client.js';
import { SseParser, type SseMessage } from './sse.js';

/** Reconnection delay when the server named none (the browsers' default is similar). */
export const DEFAULT_RETRY_MS = 2000;

export interface FollowOptions {
  /** Opens the stream from `lastEventId` ('' = from now); throws ApiClientError when refused. */
  open(lastEventId: string, signal: AbortSignal): Promise<Response>;
  onMessage(message: SseMessage): void;
  /** The connection dropped; the follower reconnects after `delayMs`. */
  onReconnect?(why: string, delayMs: number, lastEventId: string): void;
  /** Ends the follow (Ctrl-C): it returns normally. */
  readonly signal: AbortSignal;
  readonly defaultRetryMs?: number;
}

/** Whether the follower may try again after `err`: outages yes, refusals no. */
export function isRetryable(err: unknown, connectedBefore: boolean): boolean {
  if (err instanceof ApiClientError || (err as Error | undefined)?.name === 'ApiClientError') {
    const status = (err as ApiClientError).status;
    if (status === undefined) return connectedBefore; // unreachable: an outage only if it worked before
    return status === 502 || status === 503 || status === 504;
  }
  return connectedBefore; // the body broke off mid-stream
}

async function readAll(res: Response, parser: SseParser, onMessage: (m: SseMessage) => void): Promise<void> {
  if (!res.body) return;
  const decoder = new TextDecoder();
  for await (const chunk of res.body) {
    for (const m of parser.push(decoder.decode(chunk as Uint8Array, { stream: true }))) onMessage(m);
  }
}

/** Resolves when `signal` aborts; rejects with the first error that is not worth a retry. */
export async function followStream(o: FollowOptions): Promise<void> {
  const parser = new SseParser();
  let connected = false;
  while (!o.signal.aborted) {
    let why = 'the server closed the stream';
    try {
      const res = await o.open(parser.lastEventId, o.signal);
      connected = true;
      await readAll(res, parser, (m) => o.onMessage(m));
    } catch (err) {
      if (o.signal.aborted) return;
      if (!isRetryable(err, connected)) throw err;
      why = (err as Error).message;
    }
    parser.reset();
    if (o.signal.aborted) return;
    const wait = parser.retryMs ?? o.defaultRetryMs ?? DEFAULT_RETRY_MS;
    o.onReconnect?.(why, wait, parser.lastEventId);
    try {
      await delay(wait, undefined, { signal: o.signal });
    } catch {
      return; // aborted while waiting
    }
  }
}
