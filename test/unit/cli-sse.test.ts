import { expect } from 'chai';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { ApiClient, ApiClientError, apiUrl } from '../../controller/cli/api/api-client.js';
import { SseParser, type SseMessage } from '../../controller/cli/api/sse.js';
import { followStream } from '../../controller/cli/api/stream-follower.js';
import { eventLine, renderMessage } from '../../controller/cli/api/watch.js';

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

/** A loopback HTTP server answering the n-th request (0-based) with `handler`. */
async function serve(handler: Handler): Promise<{ url: string; server: Server }> {
  let n = 0;
  const server = createServer((req, res) => handler(req, res, n++));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const close = (server: Server): Promise<void> => {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
};

const problem = (res: ServerResponse, status: number, detail: string): void => {
  res.writeHead(status, { 'Content-Type': 'application/problem+json' });
  res.end(JSON.stringify({ type: `urn:flexcore:problem:x`, title: 'T', status, detail }));
};

const event = (id: string, type: string, data: Record<string, unknown>): string =>
  `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;

describe('CLI server-sent events: parsing', () => {
  const stream =
    ': hello\n\nretry: 1500\n\nid: 1.1\nevent: RunStarted\ndata: {"a":1}\n\n' +
    ': heartbeat\nid: 1.7\n\n' +
    'id:2.0\r\nevent:RunFinished\r\ndata: line one\r\ndata:line two\r\n\r\n' +
    'data: no id or type\n\n';

  const expected: SseMessage[] = [
    { id: '1.1', event: 'RunStarted', data: '{"a":1}' },
    { id: '2.0', event: 'RunFinished', data: 'line one\nline two' },
    { id: '2.0', event: 'message', data: 'no id or type' },
  ];

  it('reads id, event, data (several lines), retry; skips comments', () => {
    const p = new SseParser();
    expect(p.push(stream)).to.deep.equal(expected);
    expect(p.retryMs).to.equal(1500);
    expect(p.lastEventId).to.equal('2.0');
  });

  it('gives the same messages however the text is cut into chunks', () => {
    for (const size of [1, 2, 3, 7, 13]) {
      const p = new SseParser();
      const got: SseMessage[] = [];
      for (let i = 0; i < stream.length; i += size) got.push(...p.push(stream.slice(i, i + size)));
      expect(got, `chunks of ${size}`).to.deep.equal(expected);
    }
  });

  it('takes the id of an id-only heartbeat (the server moves the resume point past filtered events)', () => {
    const p = new SseParser('5');
    expect(p.push(': heartbeat\nid: 9\n\n')).to.deep.equal([]);
    expect(p.lastEventId).to.equal('9');
  });

  it('drops a message cut off before its blank line, and does not take its id', () => {
    const p = new SseParser();
    expect(p.push('id: 1\ndata: a\n\nid: 2\nevent: X\ndata: b')).to.have.length(1);
    p.reset();
    expect(p.lastEventId).to.equal('1');
    expect(p.push('\n\n')).to.deep.equal([]);
    expect(p.lastEventId).to.equal('1');
    expect(p.push('retry: soon\n\n')).to.deep.equal([]);
    expect(p.retryMs).to.equal(undefined);
  });
});

describe('CLI watch: event lines', () => {
  const e = {
    cursor: '12.3',
    position: 12,
    stream: 'pipeline-a-orders',
    streamVersion: 4,
    id: 'x',
    type: 'StepAttemptFinished',
    recordedAt: '2025-03-01T12:00:01.123Z',
    namespace: 'team-a',
    pipeline: 'orders',
    data: { runId: 'g1-abc', step: 'extract', attempt: 2, phase: 'Failed', exitCode: 3, extra: { x: 1 } },
  };

  it('prints time, type, pipeline, run and the step details present', () => {
    expect(eventLine(e, false)).to.equal(
      '2025-03-01T12:00:01Z  StepAttemptFinished   orders  g1-abc  step=extract  attempt=2  phase=Failed  exit=3\n',
    );
    expect(eventLine({ ...e, type: 'TestNoise', pipeline: undefined, data: {} }, true)).to.equal(
      '2025-03-01T12:00:01Z  TestNoise             -  -\n',
    );
    expect(eventLine(e, true)).to.include('  team-a/orders  ');
  });

  it('passes JSON through with -o json, and shows what it cannot parse as is', () => {
    const data = JSON.stringify(e);
    expect(renderMessage({ id: '1', event: e.type, data }, 'json', false)).to.equal(`${data}\n`);
    expect(renderMessage({ id: '1', event: e.type, data }, 'table', false)).to.equal(eventLine(e, false));
    expect(renderMessage({ id: '1', event: 'Odd', data: 'not json' }, 'table', false)).to.equal(
      'Odd  not json\n',
    );
  });
});

describe('CLI API client', () => {
  let api: { url: string; server: Server };
  before(async () => {
    api = await serve((req, res) => {
      if (req.url?.startsWith('/api/v1/problem'))
        return problem(res, 403, 'user "u" cannot list flexpipelines');
      if (req.url?.startsWith('/api/v1/unauth')) return problem(res, 401, 'no bearer token');
      if (req.url?.startsWith('/api/v1/ok')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return res.end(JSON.stringify({ n: 1, auth: req.headers.authorization ?? null }));
      }
      res.writeHead(404, { 'Content-Type': 'text/html' });
      res.end('<h1>nope</h1>');
    });
  });
  after(() => close(api.server));

  it('builds API URLs under /api/v1, whether or not the server URL already ends with it', () => {
    expect(apiUrl('http://h:8080', '/runs', { limit: 5, phase: undefined, pipeline: 'ns/p' })).to.equal(
      'http://h:8080/api/v1/runs?limit=5&pipeline=ns%2Fp',
    );
    expect(apiUrl('https://h/flexcore/api/v1/', '/status')).to.equal('https://h/flexcore/api/v1/status');
  });

  it('sends the token and checks the answer against the schema', async () => {
    const client = new ApiClient({ server: api.url, token: 't0k' });
    expect(await client.get(z.object({ n: z.number(), auth: z.string() }), '/ok')).to.deep.equal({
      n: 1,
      auth: 'Bearer t0k',
    });
    const err = await client.get(z.object({ n: z.string() }), '/ok').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ApiClientError);
    expect((err as Error).message).to.match(/^unexpected answer from http:\/\/127\.0\.0\.1:\d+: n: /);
  });

  it('turns problem documents into errors showing their detail', async () => {
    const client = new ApiClient({ server: api.url, token: 't' });
    const err = (await client.get(z.unknown(), '/problem').catch((e: unknown) => e)) as ApiClientError;
    expect(err).to.be.instanceOf(ApiClientError);
    expect(err).to.include({ name: 'ApiClientError', status: 403, exitCode: 1 });
    expect(err.message).to.equal('user "u" cannot list flexpipelines');
    expect(err.problem?.type).to.equal('urn:flexcore:problem:x');
    const anonymous = new ApiClient({ server: api.url });
    const unauth = (await anonymous.get(z.unknown(), '/unauth').catch((e: unknown) => e)) as ApiClientError;
    expect(unauth.message).to.match(/^no bearer token \(give --token or FLEXCORE_TOKEN/);
  });

  it('says when something else answers, or nothing does', async () => {
    const client = new ApiClient({ server: api.url });
    const other = (await client.get(z.unknown(), '/elsewhere').catch((e: unknown) => e)) as ApiClientError;
    expect(other.message).to.match(/^HTTP 404 Not Found from .*\/api\/v1\/elsewhere \(is --server/);
    const gone = await serve((_req, res) => res.end());
    await close(gone.server);
    const down = new ApiClient({ server: gone.url });
    const refused = (await down.get(z.unknown(), '/ok').catch((e: unknown) => e)) as ApiClientError;
    expect(refused.status).to.equal(undefined);
    expect(refused.message).to.equal(`cannot reach ${gone.url}: ECONNREFUSED`);
  });
});

describe('CLI watch: following the stream across dropped connections', () => {
  const follow = async (
    url: string,
    stopAfter: (messages: SseMessage[]) => boolean,
  ): Promise<{ messages: SseMessage[]; reconnects: [string, number][] }> => {
    const client = new ApiClient({ server: url });
    const stop = new AbortController();
    const messages: SseMessage[] = [];
    const reconnects: [string, number][] = [];
    const timer = setTimeout(() => stop.abort(), 5000);
    try {
      await followStream({
        open: (id, signal) => client.stream('/stream', {}, id ? { 'Last-Event-ID': id } : {}, signal),
        onMessage: (m) => {
          messages.push(m);
          if (stopAfter(messages)) stop.abort();
        },
        onReconnect: (why, ms) => reconnects.push([why, ms]),
        signal: stop.signal,
        defaultRetryMs: 20,
      });
    } finally {
      clearTimeout(timer);
    }
    return { messages, reconnects };
  };

  it('resumes from the last complete event: none lost, none repeated, after the retry the server set', async () => {
    const seen: (string | undefined)[] = [];
    const { url, server } = await serve((req, res, n) => {
      seen.push(req.headers['last-event-id'] as string | undefined);
      if (n === 2) return problem(res, 503, 'the event store (PostgreSQL) cannot be reached');
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      if (n === 0) {
        res.end(
          `retry: 30\n\n${event('1', 'A', { n: 1 })}${event('2', 'B', { n: 2 })}id: 3\nevent: C\ndata: {"n"`,
        );
      } else if (n === 1) {
        res.end(`${event('3', 'C', { n: 3 })}${event('4', 'D', { n: 4 })}: heartbeat\nid: 9\n\n`);
      } else {
        res.write(event('10', 'E', { n: 10 }));
      }
    });
    try {
      const got = await follow(url, (m) => m.length === 5);
      expect(got.messages.map((m) => [m.id, m.event])).to.deep.equal([
        ['1', 'A'],
        ['2', 'B'],
        ['3', 'C'],
        ['4', 'D'],
        ['10', 'E'],
      ]);
      expect(seen).to.deep.equal([undefined, '2', '9', '9']);
      expect(got.reconnects.map(([, ms]) => ms)).to.deep.equal([30, 30, 30]);
      expect(got.reconnects[2]![0]).to.match(/PostgreSQL/);
    } finally {
      await close(server);
    }
  });

  it('stops at a refusal (401, 403) with its detail, and when the server cannot be reached at first', async () => {
    const { url, server } = await serve((_req, res) =>
      problem(res, 403, 'user "u" cannot list flexpipelines'),
    );
    try {
      const err = (await follow(url, () => false).catch((e: unknown) => e)) as ApiClientError;
      expect(err).to.be.instanceOf(ApiClientError);
      expect(err.status).to.equal(403);
    } finally {
      await close(server);
    }
    const err = (await follow(url, () => false).catch((e: unknown) => e)) as ApiClientError;
    expect(err.message).to.match(/ECONNREFUSED/);
  });

  it('ends quietly when stopped (Ctrl-C) while connected', async () => {
    const { url, server } = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      res.write(event('1', 'A', {}));
    });
    try {
      const got = await follow(url, (m) => m.length === 1);
      expect(got.messages).to.have.length(1);
      expect(got.reconnects).to.deep.equal([]);
    } finally {
      await close(server);
    }
  });
});
