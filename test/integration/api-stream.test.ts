import { connect } from 'node:net';
import { expect } from 'chai';
import { createRestrictedNamespace } from '../../hack/plane/setup.js';
import type { ControlPlane } from '../../hack/plane/control-plane.js';
import {
  appendNoise,
  apiClient,
  openStream,
  seedRuns,
  serviceAccountToken,
  type SeedRun,
} from './support/api.js';
import { eventually } from './support/engine.js';
import { FAST } from './support/ha.js';
import { sharedPlane, uniqueName } from './support/plane.js';
import { startReplica, tail, type Replica } from './support/replicas.js';
import { freshStore, sharedPostgres, type TestStore } from './support/store.js';

interface FeedItem {
  id: string;
  cursor: string;
  stream: string;
}

describe('status API: the live stream (server-sent events) across two controller processes', function () {
  this.timeout(300_000);
  let plane: ControlPlane;
  let db: TestStore;
  let ns: string;
  let replicas: Replica[];
  let viewer: string;
  let reader: string;
  let batch = 0;

  const runs = (count: number): SeedRun[] => {
    batch++;
    return Array.from({ length: count }, (_, i) => ({
      runId: `s${batch}-${i}-str`,
      namespace: ns,
      pipeline: 'streamed',
      trigger: 'Manual' as const,
      startedAt: new Date(),
      finished: { phase: 'Succeeded' as const, at: new Date() },
    }));
  };

  /** Every event of the seeded streams in the store, in feed order (the answer a stream must match). */
  const feedOf = async (prefix: string): Promise<FeedItem[]> => {
    const api = apiClient(() => replicas[0]!.port(), viewer);
    const out: FeedItem[] = [];
    let after = '';
    for (;;) {
      const res = await api.get<{ items: FeedItem[]; nextCursor: string }>(
        `/api/v1/events?limit=1000${after ? `&after=${after}` : ''}`,
      );
      out.push(...res.body.items.filter((e) => e.stream.startsWith(prefix)));
      if (res.body.items.length === 0) return out;
      after = res.body.nextCursor;
    }
  };

  before(async () => {
    plane = await sharedPlane();
    ns = uniqueName('api-stream');
    await createRestrictedNamespace(plane, ns);
    db = await freshStore(10);
    const env = {
      KUBECONFIG: plane.kubeconfigPath,
      DATABASE_URL: db.url,
      WATCH_NAMESPACE: ns,
      LEADER_ELECTION_NAMESPACE: ns,
      FLEXCORE_STREAM_BUFFER_BYTES: '65536',
      FLEXCORE_STREAM_HEARTBEAT_MS: '300',
      ...FAST,
    };
    replicas = [startReplica('stream-0', env), startReplica('stream-1', env)];
    await Promise.all(replicas.map((r) => r.port()));
    viewer = await serviceAccountToken(
      plane,
      ns,
      'viewer',
      [{ resources: ['flexpipelines'], verbs: ['list'] }],
      true,
    );
    reader = await serviceAccountToken(plane, ns, 'reader', [
      { resources: ['flexpipelines'], verbs: ['list'] },
    ]);
  });

  after(async () => {
    for (const r of replicas ?? []) {
      await r.stop();
      if (r.lines.some((l) => l.level === 'error')) console.log(tail(r.lines, 20));
    }
    await db?.close();
  });

  it('resumes on the other replica from Last-Event-ID with every missed event exactly once', async () => {
    const path = `/api/v1/stream?namespace=${ns}`;
    const first = openStream(await replicas[0]!.port(), path, reader);
    expect(await first.status).to.equal(200);
    await seedRuns(db.store, runs(40));
    await eventually(
      () => Promise.resolve(first.events.length >= 30 || undefined),
      30_000,
      'the first events',
    );
    first.close();
    await first.ended;
    const seen = first.events.length;
    await seedRuns(db.store, runs(40)); // written while no client listens
    const second = openStream(await replicas[1]!.port(), path, reader, first.lastEventId);
    expect(await second.status).to.equal(200);
    await seedRuns(db.store, runs(10)); // and live again
    const expected = await eventually(async () => {
      const all = await feedOf('seed-s');
      return all.length === 180 ? all : undefined;
    });
    await eventually(
      () => Promise.resolve(seen + second.events.length >= 180 || undefined),
      30_000,
      'every event',
    );
    const got = [...first.events, ...second.events].map((e) => JSON.parse(e.data) as FeedItem);
    expect(got.map((e) => e.id)).to.deep.equal(expected.map((e) => e.id));
    expect([...first.events, ...second.events].map((e) => e.id)).to.deep.equal(expected.map((e) => e.cursor));
    second.close();
    // Each replica's feed reader read all 180, each observed in the feed's lag histogram.
    const metrics = await (await fetch(`http://127.0.0.1:${await replicas[1]!.port()}/metrics`)).text();
    const read = /^flexcore_event_feed_delay_seconds_count (\d+)$/m.exec(metrics);
    expect(Number(read?.[1])).to.be.at.least(180);
  });

  it('catches up from the beginning of the feed out of the store, then goes live', async () => {
    const conn = openStream(
      await replicas[1]!.port(),
      `/api/v1/stream?namespace=${ns}&type=RunFinished`,
      reader,
      '0.0',
    );
    const finished = await eventually(async () => {
      const all = (await feedOf('seed-s')).filter(
        (e) => (e as unknown as { type: string }).type === 'RunFinished',
      );
      return conn.events.length >= all.length ? all : undefined;
    });
    expect(conn.events.map((e) => e.id)).to.deep.equal(finished.map((e) => e.cursor));
    expect(conn.events.every((e) => e.event === 'RunFinished')).to.equal(true);
    await seedRuns(db.store, runs(3));
    await eventually(
      () => Promise.resolve(conn.events.length === finished.length + 3 || undefined),
      30_000,
      'live events',
    );
    // Heartbeats arrive, and carry the cursor past events the filter left out.
    await eventually(() => Promise.resolve(conn.comments >= 2 || undefined), 10_000, 'heartbeats');
    conn.close();
  });

  it('refuses a stream the caller may not read, and a bad Last-Event-ID', async () => {
    const port = await replicas[0]!.port();
    const api = apiClient(() => Promise.resolve(port), reader);
    expect((await api.get('/api/v1/stream')).status, 'all namespaces').to.equal(403);
    const bad = await api.request<{ invalidParams: { in: string; name: string }[] }>(
      'GET',
      `/api/v1/stream?namespace=${ns}`,
      {
        headers: { 'Last-Event-ID': 'yesterday' },
      },
    );
    expect(bad.status).to.equal(400);
    expect(bad.body.invalidParams[0]).to.deep.include({ in: 'header', name: 'Last-Event-ID' });
  });

  it('cuts off a client that does not read, and its memory stays flat', async () => {
    const r = replicas[0]!;
    const port = await r.port();
    const rssBefore = await r.metric('process_resident_memory_bytes');
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(
      `GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${viewer}\r\nLast-Event-ID: 0.0\r\n\r\n`,
    );
    socket.pause(); // never reads: the kernel buffers fill, then the server's bounded queue
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    await appendNoise(db.store, 'external-noise', 20_000, 1000);
    await eventually(
      async () => (await r.metric('flexcore_api_streams_ended_total', { reason: 'slow' })) >= 1 || undefined,
      60_000,
      'the cut-off',
    );
    socket.resume();
    await closed;
    const rssAfter = await r.metric('process_resident_memory_bytes');
    expect(rssAfter - rssBefore, 'resident memory growth').to.be.lessThan(50 * 1024 * 1024);
    expect(await r.metric('flexcore_api_stream_clients')).to.equal(0);
  });

  it('keeps streams open while PostgreSQL is down and delivers what comes after it returns', async () => {
    const conn = openStream(await replicas[0]!.port(), `/api/v1/stream?namespace=${ns}`, reader);
    expect(await conn.status).to.equal(200);
    const pg = await sharedPostgres();
    await pg.pause();
    await new Promise((r) => setTimeout(r, 2000));
    await pg.resume();
    await eventually(
      async () => {
        await seedRuns(db.store, runs(1));
        return conn.events.length > 0 || undefined;
      },
      60_000,
      'events after the outage',
    );
    conn.close();
  });
});
