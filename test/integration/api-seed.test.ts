import { expect } from 'chai';
import { stringify } from 'yaml';
import { createRestrictedNamespace } from '../../hack/plane/setup.js';
import type { ControlPlane } from '../../hack/plane/control-plane.js';
import {
  apiClient,
  apiReplicaEnv,
  openStream,
  seedRuns,
  serviceAccountToken,
  type ApiClient,
} from './support/api.js';
import { eventually } from './support/engine.js';
import { fake, pipeline, plugin } from './support/manifests.js';
import { sharedPlane, uniqueName } from './support/plane.js';
import { startReplica, tail, type Replica } from './support/replicas.js';
import { freshStore, type TestStore } from './support/store.js';

interface Problem {
  status: number;
  invalidParams?: { in: string; name: string }[];
  denied?: Record<string, string>;
}

describe("status API: the seed's endpoints and external events", function () {
  this.timeout(300_000);
  let plane: ControlPlane;
  let db: TestStore;
  let ns: string;
  let replica: Replica;
  let api: ApiClient;
  let operator: string;
  let sender: string;

  before(async () => {
    plane = await sharedPlane();
    ns = uniqueName('api-seed');
    await createRestrictedNamespace(plane, ns);
    db = await freshStore(10);
    replica = startReplica('seed-0', apiReplicaEnv(plane, db.url, ns));
    await replica.port();
    operator = await serviceAccountToken(plane, ns, 'operator', [
      { resources: ['flexpipelines', 'flexplugins'], verbs: ['get', 'list', 'patch'] },
    ]);
    sender = await serviceAccountToken(
      plane,
      ns,
      'sender',
      [
        { resources: ['flexpipelines/events'], verbs: ['create'] },
        { resources: ['flexpipelines'], verbs: ['list'] },
      ],
      true,
    );
    api = apiClient(() => replica.port(), operator);
    await plane.kubectl(
      ['apply', '-n', ns, '-f', '-'],
      [plugin('work'), pipeline('p', { steps: [{ name: 's', plugin: 'work', podMetadata: fake(0, '1h') }] })]
        .map((d) => stringify(d))
        .join('---\n'),
    );
    await seedRuns(db.store, [
      {
        runId: 'old-1-seed',
        namespace: ns,
        pipeline: 'p',
        trigger: 'Manual',
        startedAt: new Date(Date.now() - 3600_000),
      },
    ]);
    await eventually(async () => (await api.get(`/api/v1/namespaces/${ns}/plugins/work`)).status === 200);
  });

  after(async () => {
    await replica?.stop();
    if (replica?.lines.some((l) => l.level === 'error')) console.log(tail(replica.lines, 20));
    await db?.close();
  });

  it('answers GET /health without a token, and the seed status and plugin endpoints with one', async () => {
    const health = await api.request<{ status: string; checks: { eventStore: string } }>('GET', '/health', {
      token: '',
    });
    expect(health.status).to.equal(200);
    expect(health.body).to.deep.include({ status: 'healthy' });
    expect((await api.get<{ identity: string }>('/api/v1/flexcore/status')).body.identity).to.equal('seed-0');
    const plugins = await api.get<{ items: { name: string; usedBy: string[] }[] }>(
      '/api/v1/flexcore/plugins',
    );
    expect(plugins.body.items.map((p) => [p.name, p.usedBy])).to.deep.equal([['work', ['p']]]);
    for (const id of ['work', encodeURIComponent(`${ns}/work`)]) {
      const one = await api.get<{ name: string }>(`/api/v1/flexcore/plugins/${id}/status`);
      expect(one.status, id).to.equal(200);
      expect(one.body.name).to.equal('work');
    }
    expect((await api.get('/api/v1/flexcore/plugins/absent/status')).status).to.equal(404);
  });

  it('maps query envelopes onto the native endpoints, naming bad payload fields', async () => {
    const runs = await api.request<{ items: { runId: string }[] }>('POST', '/api/v1/flexcore/queries', {
      body: { type: 'ListRuns', payload: { pipeline: 'p', order: 'asc' } },
    });
    expect(runs.status, runs.text).to.equal(200);
    expect(runs.body.items[0]!.runId).to.equal('old-1-seed');
    const bad = await api.request<Problem>('POST', '/api/v1/flexcore/queries', {
      body: { type: 'ListRuns', payload: { limit: 'lots' } },
    });
    expect(bad.status).to.equal(400);
    expect(bad.body.invalidParams?.[0]).to.deep.include({ in: 'body', name: 'payload.limit' });
    const unknown = await api.request<Problem>('POST', '/api/v1/flexcore/queries', {
      body: { type: 'Bogus' },
    });
    expect(unknown.body.invalidParams?.[0]?.name).to.equal('type');
    const run = await api.request<{ runId: string }>('POST', '/api/v1/flexcore/queries', {
      body: { type: 'GetRun', payload: { runId: 'old-1-seed' } },
    });
    expect(run.body.runId).to.equal('old-1-seed');
  });

  it('maps command envelopes onto the native commands, with their authorization', async () => {
    const generation = await eventually(async () => {
      const p = (
        await api.get<{ currentRun?: { id: string; phase: string } }>(`/api/v1/namespaces/${ns}/pipelines/p`)
      ).body;
      return p.currentRun?.phase === 'Running' && p.currentRun.id;
    });
    const cancel = await api.request<{ phase: string }>('POST', '/api/v1/flexcore/commands', {
      body: { type: 'CancelRun', payload: { pipeline: 'p', runId: generation } },
    });
    expect(cancel.status, cancel.text).to.equal(202);
    expect(cancel.body.phase).to.equal('Cancelled');
    const denied = await api.request<Problem>('POST', '/api/v1/flexcore/commands', {
      token: sender,
      body: { type: 'RunPipeline', payload: { pipeline: 'p' } },
    });
    expect(denied.status).to.equal(403);
    const started = await api.request<{ runId: string }>('POST', '/api/v1/flexcore/commands', {
      body: { type: 'RunPipeline', payload: { pipeline: 'p' } },
    });
    expect(started.status, started.text).to.equal(201);
    expect(started.body.runId).to.match(/^m-/);
  });

  it('records external events in their own stream, carried by the feed and the live stream', async () => {
    const stream = openStream(await replica.port(), '/api/v1/stream?stream=external-billing', sender);
    expect(await stream.status).to.equal(200);
    const id = '0b0e3f4c-55a1-4f49-9a51-2f3d6c1e7a10';
    const sent = await api.request<{ stream: string; duplicate: boolean; position: number }>(
      'POST',
      '/api/v1/flexcore/events',
      {
        token: sender,
        body: { source: 'billing', type: 'InvoiceBatchReady', id, data: { batch: 7 } },
      },
    );
    expect(sent.status, sent.text).to.equal(201);
    expect(sent.body).to.deep.include({ stream: 'external-billing', duplicate: false });
    const again = await api.request<{ duplicate: boolean }>('POST', '/api/v1/events', {
      token: sender,
      body: { source: 'billing', type: 'InvoiceBatchReady', id, data: { batch: 7 } },
    });
    expect(again.body.duplicate).to.equal(true);
    const feed = await api.get<{ items: { type: string; data: { batch: number } }[] }>(
      '/api/v1/flexcore/events?stream=external-billing',
      sender,
    );
    expect(feed.body.items.map((e) => [e.type, e.data.batch])).to.deep.equal([['InvoiceBatchReady', 7]]);
    await eventually(
      () => Promise.resolve(stream.events.length === 1 || undefined),
      20_000,
      'the event on the stream',
    );
    expect(stream.events[0]!.event).to.equal('InvoiceBatchReady');
    stream.close();

    const engineType = await api.request<Problem>('POST', '/api/v1/events', {
      token: sender,
      body: { source: 'billing', type: 'RunStarted', data: {} },
    });
    expect(engineType.body.invalidParams?.[0]?.name).to.equal('type');
    const big = await api.request<Problem>('POST', '/api/v1/events', {
      token: sender,
      body: { source: 'billing', type: 'Big', data: { x: 'y'.repeat(20_000) } },
    });
    expect(big.status).to.equal(400);
    expect(big.body.invalidParams?.[0]?.name).to.equal('data');
    const huge = await api.request<Problem>('POST', '/api/v1/events', {
      token: sender,
      body: { source: 'billing', type: 'Big', data: { x: 'y'.repeat(70_000) } },
    });
    expect(huge.status, 'over the 64 KiB body limit').to.equal(413);
    const text = await api.request<Problem>('POST', '/api/v1/events', {
      token: sender,
      body: 'source=billing',
      headers: { 'Content-Type': 'text/plain' },
    });
    expect(text.status).to.equal(415);
    const notAllowed = await api.request<Problem>('POST', '/api/v1/events', {
      body: { source: 'billing', type: 'InvoiceBatchReady', data: {} },
    });
    expect(notAllowed.status).to.equal(403);
    expect(notAllowed.body.denied).to.deep.include({ verb: 'create', subresource: 'events' });
  });
});
