/**
 * HttpListWatch against a local HTTP server that misbehaves on purpose: split lines, ERROR
 * events, garbage, a dropped connection, and a server that never answers.
 */
import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { ApiStatusError } from '../../controller/kube/api-status-error.js';
import { HttpListWatch } from '../../controller/kube/http-list-watch.js';
import type { WatchEvent, WatchQuery } from '../../controller/kube/list-watch.js';

type Route = (req: IncomingMessage, res: ServerResponse) => void;

const WATCH: WatchQuery = {
  labelSelector: 'app=x',
  resourceVersion: '42',
  timeoutSeconds: 300,
  allowWatchBookmarks: true,
};

function event(type: string, name: string, rv: string): string {
  return (
    JSON.stringify({ type, object: { kind: 'ConfigMap', metadata: { name, resourceVersion: rv } } }) + '\n'
  );
}

describe('informer HTTP list-watch', () => {
  let server: Server;
  let route: Route;
  let client: HttpListWatch;
  let requests: URL[];

  beforeEach(async () => {
    requests = [];
    server = createServer((req, res) => {
      requests.push(new URL(req.url ?? '/', 'http://x'));
      route(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: 'c',
          server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          skipTLSVerify: true,
        },
      ],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    client = new HttpListWatch(kc, '/api/v1/namespaces/ns/configmaps');
  });

  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** Opens a watch and collects what it reports until it is closed. */
  function watch(): { events: WatchEvent[]; closed: Promise<Error | undefined>; abort: () => void } {
    const events: WatchEvent[] = [];
    let abort = (): void => undefined;
    const closed = new Promise<Error | undefined>((resolve) => {
      const handle = client.watch(WATCH, { event: (e) => events.push(e), closed: resolve });
      abort = () => handle.abort();
    });
    return { events, closed, abort };
  }

  it('sends the watch parameters and parses events split across chunks; a clean end is no error', async () => {
    route = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const text = event('ADDED', 'a', '43') + event('BOOKMARK', '', '44');
      res.write(text.slice(0, 30));
      setTimeout(() => res.end(text.slice(30)), 20);
    };
    const w = watch();
    expect(await w.closed).to.equal(undefined);
    expect(w.events.map((e) => [e.type, e.object.metadata?.resourceVersion])).to.deep.equal([
      ['ADDED', '43'],
      ['BOOKMARK', '44'],
    ]);
    expect(Object.fromEntries(requests[0]!.searchParams)).to.deep.equal({
      watch: 'true',
      labelSelector: 'app=x',
      resourceVersion: '42',
      timeoutSeconds: '300',
      allowWatchBookmarks: 'true',
    });
  });

  it('ends the watch with an ApiStatusError on an ERROR event, delivering nothing after it', async () => {
    route = (_req, res) => {
      res.writeHead(200);
      res.write(event('ADDED', 'a', '43'));
      res.write(
        JSON.stringify({
          type: 'ERROR',
          object: {
            kind: 'Status',
            message: 'too old resource version: 42 (90)',
            reason: 'Expired',
            code: 410,
          },
        }) + '\n',
      );
      res.write(event('ADDED', 'late', '91'));
    };
    const w = watch();
    const err = await w.closed;
    expect(err).to.be.instanceOf(ApiStatusError);
    expect(err).to.include({ code: 410, reason: 'Expired' });
    expect(w.events.map((e) => e.object.metadata?.name)).to.deep.equal(['a']);
  });

  it('ends the watch on a line that is not a watch event, instead of skipping it', async () => {
    route = (_req, res) => {
      res.writeHead(200);
      res.write('<html>proxy error</html>\n');
    };
    expect((await watch().closed)?.message).to.match(/malformed watch event: <html>/);
  });

  it('reports an HTTP error status with the Status code', async () => {
    route = (_req, res) => {
      res.writeHead(410, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', message: 'gone', reason: 'Gone', code: 410 }));
    };
    expect(await watch().closed).to.include({ name: 'ApiStatusError', code: 410, reason: 'Gone' });
  });

  it('reports a connection dropped mid-stream as an error, not as a clean end', async () => {
    route = (req, res) => {
      res.writeHead(200);
      res.write(event('ADDED', 'a', '43'));
      setTimeout(() => req.socket.destroy(), 20);
    };
    const err = await watch().closed;
    expect(err).to.be.instanceOf(Error);
  });

  it('can be aborted while the server has not even sent the headers', async () => {
    route = () => undefined; // never answers: a stopped or half-open apiserver
    const w = watch();
    await new Promise((r) => setTimeout(r, 50));
    expect(requests).to.have.length(1);
    const t0 = Date.now();
    w.abort();
    expect((await w.closed)?.message).to.equal('watch aborted');
    expect(Date.now() - t0).to.be.below(100);
  });

  it('lists a page with its query, resourceVersion and continue token', async () => {
    route = (_req, res) => {
      res.writeHead(200);
      res.end(
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'ConfigMapList',
          metadata: { resourceVersion: '77', continue: 'next' },
          items: [{ metadata: { name: 'a' } }],
        }),
      );
    };
    const page = await client.list(
      { limit: 2, continue: 'tok', labelSelector: 'app=x' },
      new AbortController().signal,
    );
    expect(page).to.deep.equal({
      apiVersion: 'v1',
      kind: 'ConfigMapList',
      items: [{ metadata: { name: 'a' } }],
      resourceVersion: '77',
      continue: 'next',
    });
    expect(Object.fromEntries(requests[0]!.searchParams)).to.deep.equal({
      limit: '2',
      continue: 'tok',
      labelSelector: 'app=x',
    });
  });

  it('rejects a failed list with the Status, and an aborted one at once', async () => {
    route = (_req, res) => {
      res.writeHead(403);
      res.end(
        JSON.stringify({
          kind: 'Status',
          message: 'configmaps is forbidden',
          reason: 'Forbidden',
          code: 403,
        }),
      );
    };
    const forbidden = await client.list({ limit: 1 }, new AbortController().signal).catch((e: unknown) => e);
    expect(forbidden).to.include({ name: 'ApiStatusError', code: 403, message: 'configmaps is forbidden' });

    route = () => undefined;
    const abort = new AbortController();
    const pending = client.list({ limit: 1 }, abort.signal).catch((e: unknown) => e);
    setTimeout(() => abort.abort(), 30);
    expect(await pending).to.be.instanceOf(Error);
  });
});
