import { expect } from 'chai';
import { stringify } from 'yaml';
import { createRestrictedNamespace } from '../../hack/plane/setup.js';
import type { ControlPlane } from '../../hack/plane/control-plane.js';
import {
  apiClient,
  apiReplicaEnv,
  applyLoggedPipeline,
  seedRuns,
  serviceAccountToken,
  type ApiClient,
  type SeedRun,
} from './support/api.js';
import { eventually } from './support/engine.js';
import { fake, pipeline, plugin } from './support/manifests.js';
import { sharedPlane, uniqueName } from './support/plane.js';
import { startReplica, tail, type Replica } from './support/replicas.js';
import { freshStore, sharedPostgres, type TestStore } from './support/store.js';

interface RunItem {
  runId: string;
  namespace: string;
  pipeline: string;
  trigger: string;
  phase: string;
  startedAt: string;
}
interface RunPage {
  items: RunItem[];
  nextPageToken?: string;
}
interface Problem {
  type: string;
  status: number;
  detail: string;
  invalidParams?: { in: string; name: string; reason: string }[];
  denied?: { verb: string; resource: string; subresource?: string; namespace?: string };
}

const HOUR = 3600_000;
const TRIGGERS = ['Generation', 'Manual', 'Schedule'] as const;

/** 1,000 finished runs of alpha (3 in 4) and beta; every tenth shares its start with the previous one. */
function history(ns: string, base: number): SeedRun[] {
  return Array.from({ length: 1000 }, (_, i) => {
    const startedAt = new Date(base + (i % 10 === 0 && i > 0 ? i - 1 : i) * 60_000);
    const phase = i % 10 === 3 ? 'Failed' : i % 25 === 1 ? 'Cancelled' : 'Succeeded';
    return {
      runId: `h${String(i).padStart(4, '0')}-seed`,
      namespace: ns,
      pipeline: i % 4 === 0 ? 'beta' : 'alpha',
      trigger: TRIGGERS[i % 3]!,
      startedAt,
      finished: { phase, at: new Date(startedAt.getTime() + 30_000) },
    };
  });
}

describe('status API: reads, pages, filters, authorization (a controller process, real RBAC)', function () {
  this.timeout(300_000);
  let plane: ControlPlane;
  let db: TestStore;
  let replica: Replica;
  let nsA: string;
  let nsB: string;
  let api: ApiClient;
  let reader: string; // get/list pipelines, plugins and logs in namespace A only
  let nolog: string; // get/list pipelines in namespace A, no logs
  let viewer: string; // list pipelines in every namespace
  let seeded: SeedRun[];
  const base = Date.now() - 48 * HOUR;

  const kubectlA = (args: string[], input?: string): Promise<string> =>
    plane.kubectl(['-n', nsA, ...args], input);

  before(async () => {
    plane = await sharedPlane();
    nsA = uniqueName('api-a');
    nsB = uniqueName('api-b');
    await createRestrictedNamespace(plane, nsA);
    await createRestrictedNamespace(plane, nsB);
    db = await freshStore(10);
    seeded = [
      ...history(nsA, base),
      ...Array.from({ length: 10 }, (_, i) => ({
        runId: `b${i}-other`,
        namespace: nsB,
        pipeline: 'gamma',
        trigger: 'Manual' as const,
        startedAt: new Date(base + i * 60_000),
        finished: { phase: 'Succeeded' as const, at: new Date(base + i * 60_000 + 1000) },
      })),
    ];
    replica = startReplica('api-0', apiReplicaEnv(plane, db.url, nsA));
    await replica.port();
    await seedRuns(db.store, seeded);
    const read = ['get', 'list'];
    reader = await serviceAccountToken(plane, nsA, 'reader', [
      { resources: ['flexpipelines', 'flexplugins', 'flexpipelines/log'], verbs: read },
    ]);
    nolog = await serviceAccountToken(plane, nsA, 'nolog', [{ resources: ['flexpipelines'], verbs: read }]);
    viewer = await serviceAccountToken(
      plane,
      nsA,
      'viewer',
      [{ resources: ['flexpipelines'], verbs: ['list'] }],
      true,
    );
    api = apiClient(() => replica.port(), reader);
    // Pipelines whose plugin does not exist never run: they are here for their labels.
    await kubectlA(
      ['apply', '-f', '-'],
      [
        {
          ...pipeline('alpha', { steps: [{ name: 'a', plugin: 'absent' }] }),
          metadata: { name: 'alpha', labels: { tier: 'gold' } },
        },
        {
          ...pipeline('beta', { steps: [{ name: 'b', plugin: 'absent' }] }),
          metadata: { name: 'beta', labels: { tier: 'silver' } },
        },
      ]
        .map((d) => stringify(d))
        .join('---\n'),
    );
    await eventually(
      async () =>
        (await api.get<{ items: unknown[] }>(`/api/v1/namespaces/${nsA}/pipelines`)).body.items?.length === 2,
    );
  });

  after(async () => {
    await replica?.stop();
    if (replica && replica.lines.some((l) => l.level === 'error')) console.log(tail(replica.lines, 20));
    await db?.close();
  });

  /** Every page of `path` (with `query`), following nextPageToken. */
  const walk = async (
    path: string,
    query: string,
    onPage?: (n: number) => Promise<void>,
  ): Promise<RunItem[]> => {
    const items: RunItem[] = [];
    let token: string | undefined;
    for (let page = 0; ; page++) {
      const sep = query ? '&' : '';
      const url = `${path}?${query}${token ? `${sep}pageToken=${encodeURIComponent(token)}` : ''}`;
      const res = await api.get<RunPage>(url);
      expect(res.status, res.text).to.equal(200);
      items.push(...res.body.items);
      await onPage?.(page);
      if (!res.body.nextPageToken) return items;
      token = res.body.nextPageToken;
    }
  };

  const key = (r: RunItem): string => `${r.startedAt}|${r.runId}`;

  it('walks 1,000 runs page by page with no gap and no repeat while new runs are written', async () => {
    let written = 0;
    const more = async (page: number): Promise<void> => {
      // Newer runs, and a backfilled old one, land between pages.
      const extra: SeedRun[] = [0, 1].map((k) => ({
        runId: `n${page}-${k}-new`,
        namespace: nsA,
        pipeline: 'delta',
        trigger: 'Manual',
        startedAt: new Date(k === 0 ? Date.now() : base + 500.5 * 60_000),
      }));
      written += extra.length;
      await seedRuns(db.store, extra);
    };
    const seen = await walk(`/api/v1/namespaces/${nsA}/runs`, 'limit=37', more);
    expect(written).to.be.greaterThan(40);
    const ids = seen.map((r) => r.runId);
    expect(new Set(ids).size, 'no run twice').to.equal(ids.length);
    const original = seeded.filter((r) => r.namespace === nsA).map((r) => r.runId);
    const missing = original.filter((id) => !ids.includes(id));
    expect(missing, 'every run that existed when the walk began').to.deep.equal([]);
    const keys = seen.map(key);
    expect(
      keys.every((k, i) => i === 0 || keys[i - 1]! > k),
      'newest first',
    ).to.equal(true);
    expect(seen.every((r) => r.namespace === nsA)).to.equal(true);
  });

  it('orders oldest first and pages the same way', async () => {
    const seen = await walk(`/api/v1/namespaces/${nsA}/pipelines/beta/runs`, 'order=asc&limit=100');
    const expected = seeded.filter((r) => r.pipeline === 'beta').map((r) => r.runId);
    expect(seen.map((r) => r.runId)).to.deep.equal(expected); // seeded in start order, ties by id
  });

  it('filters by phase, trigger, start time, pipeline and label selector', async () => {
    const mine = seeded.filter((r) => r.namespace === nsA);
    const count = async (query: string): Promise<number> =>
      (await walk(`/api/v1/namespaces/${nsA}/runs`, `limit=500&${query}`)).length;
    const before = new Date(base + 1000 * 60_000).toISOString();
    expect(await count(`phase=Failed`)).to.equal(mine.filter((r) => r.finished?.phase === 'Failed').length);
    expect(await count(`phase=Failed,Cancelled&trigger=Schedule`)).to.equal(
      mine.filter((r) => r.finished?.phase !== 'Succeeded' && r.trigger === 'Schedule').length,
    );
    const from = new Date(base + 100 * 60_000);
    const to = new Date(base + 200 * 60_000);
    const windowed = await walk(
      `/api/v1/namespaces/${nsA}/runs`,
      `startedAfter=${from.toISOString()}&startedBefore=${to.toISOString()}`,
    );
    expect(windowed.map((r) => r.runId).sort()).to.deep.equal(
      mine
        .filter((r) => r.startedAt >= from && r.startedAt < to)
        .map((r) => r.runId)
        .sort(),
    );
    expect(await count(`pipeline=beta&startedBefore=${before}`)).to.equal(
      mine.filter((r) => r.pipeline === 'beta').length,
    );
    expect(await count(`labelSelector=${encodeURIComponent('tier=gold')}&startedBefore=${before}`)).to.equal(
      mine.filter((r) => r.pipeline === 'alpha').length,
    );
    expect(await count(`labelSelector=${encodeURIComponent('tier notin (gold)')}`)).to.equal(
      mine.filter((r) => r.pipeline === 'beta').length,
    );
    expect(await count(`labelSelector=${encodeURIComponent('tier=bronze')}`)).to.equal(0);
  });

  it('summarizes finished runs by pipeline and by day from the daily summary', async () => {
    const since = new Date(base).toISOString().slice(0, 10);
    const res = await api.get<{
      groups: {
        key: string;
        runs: Record<string, number>;
        total: number;
        durationSeconds: { p50: number; mean: number };
      }[];
    }>(`/api/v1/namespaces/${nsA}/summary?groupBy=pipeline&since=${since}`);
    expect(res.status, res.text).to.equal(200);
    const mine = seeded.filter((r) => r.namespace === nsA);
    const count = (pipeline: string, phase: string): number =>
      mine.filter((r) => r.pipeline === pipeline && r.finished?.phase === phase).length;
    expect(res.body.groups.map((g) => [g.key, g.runs])).to.deep.equal(
      ['alpha', 'beta'].map((p) => [
        `${nsA}/${p}`,
        Object.fromEntries(
          ['Cancelled', 'Failed', 'Succeeded']
            .map((ph): [string, number] => [ph, count(p, ph)])
            .filter(([, n]) => n > 0),
        ),
      ]),
    );
    expect(res.body.groups[0]!.durationSeconds.mean).to.equal(30);
    expect(res.body.groups[0]!.durationSeconds.p50).to.be.within(30, 60); // every seeded run took 30 s: bucket [30, 60)
    const byDay = await api.get<{ groups: { total: number }[] }>(
      `/api/v1/namespaces/${nsA}/summary?since=${since}`,
    );
    expect(byDay.body.groups.reduce((a, g) => a + g.total, 0)).to.equal(mine.length);
    expect((await api.get<Problem>(`/api/v1/namespaces/${nsA}/summary?since=1999-01-01`)).status).to.equal(
      400,
    );
  });

  it('answers bad parameters with 400 problem documents naming them', async () => {
    const bad = async (query: string, name: string): Promise<void> => {
      const res = await api.get<Problem>(`/api/v1/namespaces/${nsA}/runs?${query}`);
      expect(res.status, query).to.equal(400);
      expect(res.headers.get('content-type')).to.match(/^application\/problem\+json/);
      expect(
        res.body.invalidParams?.map((p) => p.name),
        query,
      ).to.include(name);
    };
    await bad('limit=0', 'limit');
    await bad('limit=501', 'limit');
    await bad('phase=Exploded', 'phase');
    await bad('startedAfter=yesterday', 'startedAfter');
    await bad('order=sideways', 'order');
    await bad('labelSelector=tier%20in%20(gold', 'labelSelector');
    await bad('colour=blue', 'colour');
    await bad('pageToken=bm90LWEtdG9rZW4', 'pageToken');
    const first = await api.get<RunPage>(`/api/v1/namespaces/${nsA}/runs?phase=Failed&limit=5`);
    await bad(`phase=Succeeded&limit=5&pageToken=${first.body.nextPageToken}`, 'pageToken');
    const path = await api.get<Problem>(`/api/v1/namespaces/Not_A_Namespace/runs`);
    expect(path.status).to.equal(400);
    expect(path.body.invalidParams?.[0]).to.include({ in: 'path', name: 'namespace' });
    expect((await api.get<Problem>('/api/v1/no-such-thing')).status).to.equal(404);
    const method = await api.request<Problem>('DELETE', `/api/v1/namespaces/${nsA}/runs`);
    expect(method.status).to.equal(405);
    expect(method.headers.get('allow')).to.include('GET');
  });

  it('authorizes with TokenReview and SubjectAccessReview: 401 without a token, 403 naming what is denied', async () => {
    const none = await api.request<Problem>('GET', `/api/v1/namespaces/${nsA}/runs`, { token: '' });
    expect(none.status).to.equal(401);
    expect(none.headers.get('www-authenticate')).to.match(/^Bearer/);
    expect((await api.get<Problem>(`/api/v1/namespaces/${nsA}/runs`, 'not-a-token')).status).to.equal(401);

    const other = await api.get<Problem>(`/api/v1/namespaces/${nsB}/runs`);
    expect(other.status).to.equal(403);
    expect(other.body.denied).to.deep.equal({
      verb: 'list',
      resource: 'flexpipelines.flexcore.io',
      namespace: nsB,
    });
    expect(other.text).to.not.include('b0-other');
    expect(other.body.detail).to.include(`system:serviceaccount:${nsA}:reader`);

    const all = await api.get<Problem>('/api/v1/runs');
    expect(all.status).to.equal(403);
    expect(all.body.denied).to.deep.equal({ verb: 'list', resource: 'flexpipelines.flexcore.io' });

    // Cluster-wide list: both namespaces, filtered to namespace B through the pipeline parameter.
    const everywhere = await api.get<RunPage>(`/api/v1/runs?pipeline=${nsB}/gamma`, viewer);
    expect(everywhere.status).to.equal(200);
    expect(everywhere.body.items.map((r) => r.runId).sort()).to.deep.equal(
      Array.from({ length: 10 }, (_, i) => `b${i}-other`).sort(),
    );
    const readerFeed = await api.get<Problem>('/api/v1/events?limit=5');
    expect(readerFeed.status).to.equal(403);
    const decisions = await replica.metric('flexcore_api_auth_decisions_total', {
      kind: 'access',
      cached: 'true',
    });
    expect(decisions, 'repeated decisions come from the cache').to.be.greaterThan(0);
  });

  it("serves a run's steps and attempts, and its log after the Pod was deleted", async () => {
    await applyLoggedPipeline(plane, nsA);
    const lastRun = await eventually(async () => {
      const p = (
        await api.get<{ lastRun?: { id: string; phase: string } }>(`/api/v1/namespaces/${nsA}/pipelines/real`)
      ).body;
      return p.lastRun?.phase === 'Succeeded' && p.lastRun;
    });
    const runPath = `/api/v1/namespaces/${nsA}/pipelines/real/runs/${lastRun.id}`;
    const detail = await api.get<{
      phase: string;
      steps: {
        name: string;
        phase: string;
        attempts: { attempt: number; pod: string; exitCode: number; logs: { container: string }[] }[];
      }[];
    }>(runPath);
    expect(detail.status, detail.text).to.equal(200);
    expect(detail.body.phase).to.equal('Succeeded');
    expect(detail.body.steps.map((s) => [s.name, s.phase])).to.deep.equal([
      ['extract', 'Succeeded'],
      ['load', 'Succeeded'],
    ]);
    expect(detail.body.steps[0]!.attempts[0]).to.deep.include({
      attempt: 1,
      pod: 'real-g1-extract-1',
      exitCode: 0,
    });
    expect(detail.body.steps[0]!.attempts[0]!.logs.map((l) => l.container)).to.deep.equal(['plugin']);
    expect((await api.get(`/api/v1/namespaces/${nsA}/runs/${lastRun.id}`)).body).to.deep.equal(detail.body);

    await kubectlA(['delete', 'pods', '-l', 'flexcore.io/pipeline=real', '--wait=true']);
    const log = await api.get(`${runPath}/steps/extract/attempts/1/log`);
    expect(log.status).to.equal(200);
    expect(log.headers.get('content-type')).to.match(/^text\/plain/);
    expect(log.text).to.equal('extracted 3 rows\n');
    expect((await api.get(`${runPath}/steps/extract/attempts/2/log`)).status).to.equal(404);
    const denied = await api.get<Problem>(`${runPath}/steps/extract/attempts/1/log`, nolog);
    expect(denied.status).to.equal(403);
    expect(denied.body.denied).to.deep.include({ resource: 'flexpipelines.flexcore.io', subresource: 'log' });
    expect(
      (await api.get(`/api/v1/namespaces/${nsA}/pipelines/alpha/runs/${lastRun.id}`)).status,
      'another pipeline',
    ).to.equal(404);
  });

  it("serves a Singer pipeline's stored bookmark per tap step", async () => {
    await kubectlA(
      ['apply', '-f', '-'],
      [
        plugin('tap-orders', { type: 'tap', command: ['tap-orders'] }),
        plugin('target-lake', { type: 'target', command: ['target-lake'] }),
        pipeline('sync', {
          steps: [
            { name: 'orders', plugin: 'tap-orders', target: { plugin: 'target-lake' }, podMetadata: fake(0) },
            { name: 'after', plugin: 'work', dependsOn: ['orders'], podMetadata: fake(0) },
          ],
        }),
      ]
        .map((d) => stringify(d))
        .join('---\n'),
    );
    await plane.setPodLogs(nsA, 'sync-g1-orders-1', 'target', '{"bookmarks":{"orders":{"id":42}}}\n');
    await eventually(async () => {
      const p = (await api.get<{ lastRun?: { phase: string } }>(`/api/v1/namespaces/${nsA}/pipelines/sync`))
        .body;
      return p.lastRun?.phase === 'Succeeded';
    });
    const res = await api.get<{ items: { step: string; stateId: string; state?: unknown }[] }>(
      `/api/v1/namespaces/${nsA}/pipelines/sync/singer-state`,
    );
    expect(res.status, res.text).to.equal(200);
    expect(res.body.items).to.have.length(1);
    expect(res.body.items[0]).to.deep.include({
      step: 'orders',
      stateId: `${nsA}/sync/orders`,
      state: { bookmarks: { orders: { id: 42 } } },
    });
    expect((await api.get(`/api/v1/namespaces/${nsA}/pipelines/absent/singer-state`)).status).to.equal(404);
  });

  it('serves the feed in commit order with a cursor, filtered to a namespace the caller may list', async () => {
    const types = new Set<string>();
    let after = '';
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      const res = await api.get<{
        items: { id: string; type: string; namespace?: string; data: Record<string, unknown> }[];
        nextCursor: string;
      }>(`/api/v1/events?namespace=${nsA}&pipeline=real&limit=3${after ? `&after=${after}` : ''}`);
      expect(res.status, res.text).to.equal(200);
      for (const e of res.body.items) {
        types.add(e.type);
        ids.push(e.id);
        expect(e.namespace).to.equal(nsA);
        if (e.type === 'LogTailCaptured')
          expect(e.data).to.have.property('tailBytes').and.not.have.property('tail');
      }
      if (res.body.items.length === 0) break;
      after = res.body.nextCursor;
    }
    expect(new Set(ids).size).to.equal(ids.length);
    expect([...types]).to.include.members([
      'RunStarted',
      'StepAttemptScheduled',
      'StepAttemptFinished',
      'LogTailCaptured',
      'RunFinished',
    ]);
    const started = await api.get<{ items: { type: string }[] }>(
      `/api/v1/events?namespace=${nsA}&type=RunStarted&limit=1000`,
    );
    expect(started.body.items.every((e) => e.type === 'RunStarted')).to.equal(true);
    expect(
      (await api.get<Problem>(`/api/v1/events?namespace=${nsA}&after=garbage`)).body.invalidParams?.[0]?.name,
    ).to.equal('after');
  });

  it('starts and cancels runs through commands that only annotate the pipeline', async () => {
    const operator = await serviceAccountToken(plane, nsA, 'operator', [
      { resources: ['flexpipelines'], verbs: ['get', 'list', 'patch'] },
    ]);
    await kubectlA(
      ['apply', '-f', '-'],
      stringify(pipeline('long', { steps: [{ name: 'wait', plugin: 'work', podMetadata: fake(0, '1h') }] })),
    );
    const path = `/api/v1/namespaces/${nsA}/pipelines/long`;
    const generation = await eventually(async () => {
      const p = (await api.get<{ currentRun?: { id: string; phase: string } }>(path)).body;
      return p.currentRun?.phase === 'Running' && p.currentRun.id;
    });
    const denied = await api.request<Problem>('POST', `${path}/runs/${generation}/cancel`);
    expect(denied.status).to.equal(403);
    expect(denied.body.denied).to.deep.include({ verb: 'patch', resource: 'flexpipelines.flexcore.io' });

    const cancel = await api.request<{ phase: string }>('POST', `${path}/runs/${generation}/cancel`, {
      token: operator,
    });
    expect(cancel.status, cancel.text).to.equal(202);
    expect(cancel.body.phase).to.equal('Cancelled');
    const again = await api.request<Problem>('POST', `${path}/runs/${generation}/cancel`, {
      token: operator,
    });
    expect(again.status).to.equal(409);

    const badStep = await api.request<Problem>('POST', `${path}/runs`, {
      token: operator,
      body: { fullRefresh: ['nope'] },
    });
    expect(badStep.status).to.equal(400);
    expect(badStep.body.invalidParams?.[0]).to.deep.include({ in: 'body', name: 'fullRefresh' });
    expect(
      (await api.request<Problem>('POST', `${path}/runs`, { token: operator, body: '{"x":' })).status,
    ).to.equal(400);

    const started = await api.request<{ runId: string; request: string }>('POST', `${path}/runs`, {
      token: operator,
    });
    expect(started.status, started.text).to.equal(201);
    expect(started.headers.get('location')).to.equal(`${path}/runs/${started.body.runId}`);
    const object = JSON.parse(await kubectlA(['get', 'flexpipeline', 'long', '-o', 'json'])) as {
      metadata: { annotations: Record<string, string> };
    };
    expect(object.metadata.annotations).to.deep.include({
      'flexcore.io/run-requested': started.body.request,
      'flexcore.io/requested-by': `system:serviceaccount:${nsA}:operator`,
    });
    const run = await api.get<{ trigger: string; phase: string }>(`${path}/runs/${started.body.runId}`);
    expect(run.body).to.deep.include({ trigger: 'Manual', phase: 'Running' });
    const stop = await api.request<{ phase: string }>('POST', `${path}/runs/${started.body.runId}/cancel`, {
      token: operator,
    });
    expect(stop.body.phase).to.equal('Cancelled');
  });

  it('executes a plugin ad hoc as a one-step pipeline that is deleted a TTL after its run', async () => {
    const runner = await serviceAccountToken(plane, nsA, 'runner', [
      { resources: ['flexplugins'], verbs: ['get'] },
      { resources: ['flexpipelines'], verbs: ['get', 'list', 'create'] },
    ]);
    await kubectlA(
      ['apply', '-f', '-'],
      stringify({ ...plugin('quick'), spec: { ...(plugin('quick').spec as object), podMetadata: fake(0) } }),
    );
    await eventually(async () => (await api.get(`/api/v1/namespaces/${nsA}/plugins/quick`)).status === 200);
    const path = `/api/v1/namespaces/${nsA}/plugins/quick/execute`;
    const bad = await api.request<Problem>('POST', path, { token: runner, body: { timeoutSeconds: -5 } });
    expect(bad.status).to.equal(400);
    expect(bad.body.invalidParams?.[0]?.name).to.equal('timeoutSeconds');
    expect((await api.request<Problem>('POST', path, { body: {} })).status, 'reader may not create').to.equal(
      403,
    );
    expect(
      (
        await api.request('POST', `/api/v1/namespaces/${nsA}/plugins/absent/execute`, {
          token: runner,
          body: {},
        })
      ).status,
    ).to.equal(404);

    const res = await api.request<{ pipeline: string; runId?: string }>('POST', path, {
      token: runner,
      body: { config: { rows: 3 }, ttlSecondsAfterFinished: 2 },
    });
    expect(res.status, res.text).to.equal(201);
    expect(res.body.pipeline).to.match(/^quick-adhoc-[a-z0-9]{5}$/);
    const created = JSON.parse(await kubectlA(['get', 'flexpipeline', res.body.pipeline, '-o', 'json'])) as {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: { steps: { name: string; plugin: string; config: unknown }[] };
    };
    expect(created.metadata.labels).to.deep.include({
      'flexcore.io/ad-hoc': 'true',
      'flexcore.io/plugin': 'quick',
    });
    expect(created.spec.steps).to.deep.equal([{ name: 'run', plugin: 'quick', config: { rows: 3 } }]);
    const listed = await api.get<{ items: { name: string; adHoc: boolean }[] }>(
      `/api/v1/namespaces/${nsA}/pipelines`,
    );
    expect(listed.body.items.find((p) => p.name === res.body.pipeline)?.adHoc).to.equal(true);
    // The run succeeds, then the pipeline goes; its runs stay in the history.
    await eventually(
      async () =>
        (await kubectlA(['get', 'flexpipelines', '-o', 'name'])).includes(res.body.pipeline)
          ? undefined
          : true,
      60_000,
      'the ad hoc pipeline deleted after its TTL',
    );
    const runs = await api.get<{ items: { phase: string }[] }>(
      `/api/v1/namespaces/${nsA}/pipelines/${res.body.pipeline}/runs`,
    );
    expect(runs.body.items.map((r) => r.phase)).to.deep.equal(['Succeeded']);
  });

  it("serves the replica's status and the OpenAPI document", async () => {
    const status = await api.get<Record<string, unknown>>('/api/v1/status');
    expect(status.status, status.text).to.equal(200);
    expect(status.body).to.deep.include({
      identity: 'api-0',
      role: 'leader',
      eventStore: 'up',
      redis: 'off',
      apiAuth: 'kubernetes',
    });
    expect(status.body.informers).to.deep.equal({ pipelines: true, plugins: true, pods: true });
    const doc = await api.request<{ openapi: string; paths: Record<string, unknown> }>(
      'GET',
      '/api/v1/openapi.json',
      { token: '' },
    );
    expect(doc.status).to.equal(200);
    expect(doc.body.openapi).to.equal('3.1.0');
    expect(Object.keys(doc.body.paths)).to.include('/api/v1/namespaces/{namespace}/pipelines/{name}/runs');
  });

  it('answers 503 with Retry-After while PostgreSQL is down, and serves again once it is back', async () => {
    const pg = await sharedPostgres();
    await pg.pause();
    try {
      const res = await api.get<Problem>(`/api/v1/namespaces/${nsA}/runs?limit=1`);
      expect(res.status, res.text).to.equal(503);
      expect(res.headers.get('retry-after')).to.equal('5');
      expect(res.body.type).to.equal('urn:flexcore:problem:store-unavailable');
    } finally {
      await pg.resume();
    }
    await eventually(async () => (await api.get(`/api/v1/namespaces/${nsA}/runs?limit=1`)).status === 200);
  });
});
