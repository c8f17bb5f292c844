/**
 * The controller's writes and uncached reads against the Kubernetes API: one small HTTP client
 * (keep-alive, client-side rate limit like client-go's QPS/burst, typed errors, a request
 * counter) instead of the generated clients, so every call is visible and countable.
 */
import { Agent, request } from 'node:https';
import type { ClusterAccess } from '../kube/cluster-access.js';
import { Counter, type Registry } from 'prom-client';
import { systemClock, type Clock } from '../clock.js';
import { ApiStatusError, apiStatusError } from '../kube/api-status-error.js';
import { TokenBucketRateLimiter } from '../kube/rate-limiter.js';
import { LineSplitter } from './line-splitter.js';
import { requestKind } from './request-kind.js';

export interface KubeClientOptions {
  /** Sustained requests per second (client-go's QPS); 0 disables the limit. */
  readonly qps?: number;
  readonly burst?: number;
  readonly registry?: Registry;
  readonly clock?: Clock;
  readonly timeoutMs?: number;
}

/**
 * Asked right before a write is sent (after any rate-limit wait): throws to stop it. The
 * engine passes its leadership term, so a replica that stopped leading never writes.
 */
export interface WriteGuard {
  assertMayWrite(): void;
}

/** How long the kubeconfig's TLS options and credentials are reused (see connectionOptions). */
export const CONNECTION_OPTIONS_TTL_MS = 60_000;

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';
const PATCH_CONTENT: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export class KubeClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private readonly bucket: TokenBucketRateLimiter | undefined;
  private readonly clock: Clock;
  private readonly requests: Counter | undefined;
  private readonly kinds: Counter | undefined;
  private readonly server: string;
  private cached: { at: number; options: Parameters<typeof request>[1] } | undefined;
  private authHeaders: Record<string, string> = {};

  constructor(
    private readonly kc: ClusterAccess,
    private readonly options: KubeClientOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    const qps = options.qps ?? 50;
    this.bucket =
      qps > 0 ? new TokenBucketRateLimiter(this.clock, { qps, burst: options.burst ?? 100 }) : undefined;
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/$/, '');
    this.requests = options.registry
      ? ((options.registry.getSingleMetric('rest_client_requests_total') as Counter | undefined) ??
        new Counter({
          name: 'rest_client_requests_total',
          help: 'Requests to the Kubernetes API, by verb and HTTP code (client-go name).',
          labelNames: ['method', 'code'],
          registers: [options.registry],
        }))
      : undefined;
    this.kinds = options.registry
      ? ((options.registry.getSingleMetric('flexcore_kube_api_requests_total') as Counter | undefined) ??
        new Counter({
          name: 'flexcore_kube_api_requests_total',
          help: 'Requests to the Kubernetes API by verb and resource (as RBAC names them) and HTTP code.',
          labelNames: ['verb', 'resource', 'code'],
          registers: [options.registry],
        }))
      : undefined;
  }

  async get<T>(path: string): Promise<T> {
    return this.call<T>('GET', path);
  }
  async create<T>(path: string, body: unknown, guard?: WriteGuard): Promise<T> {
    return this.call<T>('POST', path, JSON.stringify(body), 'application/json', false, guard);
  }
  async patch<T>(path: string, body: unknown, type: PatchType = 'merge', guard?: WriteGuard): Promise<T> {
    return this.call<T>('PATCH', path, JSON.stringify(body), PATCH_CONTENT[type], false, guard);
  }
  async put<T>(path: string, body: unknown, guard?: WriteGuard): Promise<T> {
    return this.call<T>('PUT', path, JSON.stringify(body), 'application/json', false, guard);
  }
  async delete(path: string, body?: unknown, guard?: WriteGuard): Promise<void> {
    await this.call(
      'DELETE',
      path,
      body === undefined ? undefined : JSON.stringify(body),
      'application/json',
      false,
      guard,
    );
  }
  /** Plain-text GET (Pod logs). */
  async getText(path: string): Promise<string> {
    return this.call<string>('GET', path, undefined, undefined, true);
  }

  /**
   * Plain-text GET read line by line as it arrives: a whole Pod log is never held in memory.
   * A line longer than `maxLineBytes` is cut there (its rest is dropped).
   */
  async eachLine(path: string, onLine: (line: string) => void, maxLineBytes = 64 * 1024): Promise<void> {
    await this.throttle();
    const opts = await this.requestOptions('GET', true);
    const code = await new Promise<number>((resolve, reject) => {
      const req = request(new URL(this.server + path), opts, (res) => {
        const code = res.statusCode ?? 0;
        if (code >= 400) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => reject(toError('GET', path, code, Buffer.concat(chunks).toString())));
        } else {
          const lines = new LineSplitter(onLine, maxLineBytes);
          res.on('data', (c: Buffer) => lines.push(c));
          res.on('end', () => {
            lines.end();
            resolve(code);
          });
        }
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`timeout after ${String(opts.timeout)} ms`)));
      req.on('error', reject);
      req.end();
    }).catch((err: unknown) => {
      if (err instanceof ApiStatusError) this.count('GET', path, undefined, err.code);
      throw err;
    });
    this.count('GET', path, undefined, code);
  }

  /**
   * TLS material and credentials from the kubeconfig, read again every CONNECTION_OPTIONS_TTL_MS
   * rather than per request: client-node reads certificate and token files and builds an agent
   * each time, which was a visible share of the controller's CPU per request. A refreshed
   * projected service-account token is picked up within the TTL.
   */
  private async connectionOptions(): Promise<Parameters<typeof request>[1]> {
    const now = this.clock.now();
    if (this.cached && now - this.cached.at < CONNECTION_OPTIONS_TTL_MS) return this.cached.options;
    const options: Parameters<typeof request>[1] & { headers?: Record<string, string> } = {};
    await this.kc.applyToHTTPSOptions(options);
    const { headers, agent: _ignored, ...tls } = options;
    this.authHeaders = { ...(headers ?? {}) };
    this.cached = { at: now, options: tls };
    return tls;
  }

  private async throttle(): Promise<void> {
    const wait = this.bucket?.when('') ?? 0;
    if (wait > 0) await new Promise<void>((resolve) => this.clock.setTimer(resolve, wait));
  }

  private async call<T>(
    method: string,
    path: string,
    body?: string,
    contentType?: string,
    text = false,
    guard?: WriteGuard,
  ): Promise<T> {
    await this.throttle();
    const opts = await this.requestOptions(method, text, contentType, body);
    guard?.assertMayWrite(); // last thing before the request leaves: no await after it
    const { code, payload } = await send(new URL(this.server + path), opts, body);
    this.count(method, path, contentType, code);
    if (code >= 400) throw toError(method, path, code, payload);
    if (text) return payload as T;
    return (payload ? JSON.parse(payload) : undefined) as T;
  }

  private async requestOptions(
    method: string,
    text: boolean,
    contentType?: string,
    body?: string,
  ): Promise<NonNullable<Parameters<typeof request>[1]>> {
    const opts: NonNullable<Parameters<typeof request>[1]> = {
      method,
      timeout: this.options.timeoutMs ?? 30_000,
      headers: {
        Accept: text ? 'text/plain, */*' : 'application/json',
        ...(contentType && { 'Content-Type': contentType }),
        // Node sends a DELETE's body without a length unless told: the apiserver would then
        // ignore it (preconditions, propagation) and read its bytes as the next request.
        ...(body !== undefined && { 'Content-Length': Buffer.byteLength(body) }),
      },
    };
    Object.assign(opts, await this.connectionOptions());
    opts.headers = { ...opts.headers, ...this.authHeaders };
    opts.agent = this.agent;
    return opts;
  }

  private count(method: string, path: string, contentType: string | undefined, code: number): void {
    this.requests?.inc({ method, code: String(code) });
    this.kinds?.inc({ ...requestKind(method, path, contentType), code: String(code) });
    if (code === 401) this.cached = undefined; // a rotated token: read the credentials again
  }
}

function send(
  url: URL,
  opts: Parameters<typeof request>[1],
  body?: string,
): Promise<{ code: number; payload: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, payload: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${String(opts?.timeout)} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** The apiserver's Status (code and reason), with the request it answered in the message. */
function toError(method: string, path: string, code: number, payload: string): ApiStatusError {
  let status: unknown;
  try {
    status = JSON.parse(payload);
  } catch {
    status = { message: payload.slice(0, 500) }; // not a Status object (e.g. a proxy's error page)
  }
  const e = apiStatusError(status, code);
  return new ApiStatusError(e.code, e.reason, `${method} ${path}: ${code} ${e.reason ?? ''}: ${e.message}`);
}
