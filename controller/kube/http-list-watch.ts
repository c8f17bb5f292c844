/**
 * ListWatch over node:http(s) with the kubeconfig's credentials (`applyToHTTPSOptions`).
 *
 * Not client-node's `Watch`: it awaits the response headers before returning its
 * AbortController, so a connection that stalls before the headers (a stopped or half-open
 * apiserver) cannot be aborted; it also drops unparsable lines silently. Here the request is
 * abortable from the first moment, every way a watch can end reaches `closed` exactly once,
 * and ERROR events become ApiStatusErrors with their code. Lists use the same path so both
 * report errors alike (the typed API clients need one function per resource; this takes a path).
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ClusterAccess } from './cluster-access.js';
import { apiStatusError } from './api-status-error.js';
import type { ListPage, ListQuery, ListWatch, WatchHandle, WatchObserver, WatchQuery } from './list-watch.js';

type Query = Readonly<Record<string, string | number | boolean | undefined>>;

/** Lists and watches one collection path, e.g. `/api/v1/namespaces/ns/configmaps`. */
export class HttpListWatch implements ListWatch {
  constructor(
    private readonly kubeConfig: ClusterAccess,
    private readonly path: string,
  ) {}

  async list(query: ListQuery, signal: AbortSignal): Promise<ListPage> {
    const res = await this.get({ ...query }, signal);
    const body = await readBody(res);
    if (res.statusCode !== 200) throw apiStatusError(parseJson(body), res.statusCode ?? 0);
    const list = JSON.parse(body) as {
      apiVersion?: string;
      kind?: string;
      metadata?: { resourceVersion?: string; continue?: string };
      items?: KubernetesObject[];
    };
    return {
      apiVersion: list.apiVersion,
      kind: list.kind,
      items: list.items ?? [],
      resourceVersion: list.metadata?.resourceVersion ?? '',
      continue: list.metadata?.continue || undefined,
    };
  }

  watch(query: WatchQuery, observer: WatchObserver): WatchHandle {
    const abort = new AbortController();
    let done = false;
    const finish = (error: Error | undefined): void => {
      if (done) return;
      done = true;
      abort.abort();
      observer.closed(error);
    };
    this.get({ ...query, watch: true }, abort.signal)
      .then(async (res) => {
        if (res.statusCode !== 200) {
          finish(apiStatusError(parseJson(await readBody(res)), res.statusCode ?? 0));
          return;
        }
        streamEvents(res, observer, finish, abort.signal);
      })
      .catch((err: unknown) => finish(err instanceof Error ? err : new Error(String(err))));
    return { abort: () => finish(new Error('watch aborted')) };
  }

  private async get(query: Query, signal: AbortSignal): Promise<IncomingMessage> {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const options: https.RequestOptions = {};
    await this.kubeConfig.applyToHTTPSOptions(options);
    const url = new URL(cluster.server + this.path);
    for (const [k, v] of Object.entries(query))
      if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    const request = url.protocol === 'http:' ? http.request : https.request;
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        { ...options, method: 'GET', headers: { ...options.headers, Accept: 'application/json' }, signal },
        resolve,
      );
      req.on('error', reject);
      // Lets the kernel notice a peer that vanished; a stopped-but-alive peer needs the watchdog.
      req.on('socket', (socket) => socket.setKeepAlive(true, 30_000));
      req.end();
    });
  }
}

/** Splits the response into JSON lines; an ERROR event or a malformed line ends the watch. */
function streamEvents(
  res: IncomingMessage,
  observer: WatchObserver,
  finish: (e?: Error) => void,
  ended: AbortSignal,
): void {
  let buffered = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0 && !ended.aborted; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line === '') continue;
      const event = parseJson(line) as { type?: unknown; object?: unknown } | undefined;
      if (typeof event?.type !== 'string' || typeof event.object !== 'object' || event.object === null) {
        finish(new Error(`malformed watch event: ${line.slice(0, 200)}`));
        return;
      }
      if (event.type === 'ERROR') {
        finish(apiStatusError(event.object, 500));
        return;
      }
      observer.event({ type: event.type, object: event.object });
    }
  });
  res.on('error', (err) => finish(err));
  res.on('close', () => finish(res.complete ? undefined : new Error('watch connection closed mid-stream')));
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (body += chunk));
    res.on('end', () => resolve(body));
    res.on('error', reject);
    res.on('close', () => {
      if (!res.complete) reject(new Error('connection closed before the response was complete'));
    });
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
