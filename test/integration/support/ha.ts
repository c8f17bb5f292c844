/**
 * Shared set-up and checks of the high-availability suites: a namespace with pipelines whose
 * steps take a while (so runs are in flight during a failover), a database, the election
 * Leases as the apiserver has them, and the exactly-once checks on events and Pods.
 */
import { expect } from 'chai';
import { stringify } from 'yaml';
import type { FlexPipelineStatus } from '../../../api/v1alpha1/index.js';
import type { ControlPlane } from '../../../hack/plane/control-plane.js';
import { eventually } from './engine.js';
import { fake, pipeline, plugin } from './manifests.js';
import { restrictedNamespace } from './plane.js';
import { startReplica, terms, type Replica } from './replicas.js';
import { freshStore, type TestStore } from './store.js';

/** Short timings so a suite does not wait 15 s per failover; the benchmark uses the defaults. */
export const FAST = {
  LEADER_ELECTION_LEASE_DURATION: '3s',
  LEADER_ELECTION_RENEW_DEADLINE: '2s',
  LEADER_ELECTION_RETRY_PERIOD: '500ms',
};
export const FAST_MS = { lease: 3000, renew: 2000, retry: 500 };

export interface HaWorld {
  readonly plane: ControlPlane;
  readonly ns: string;
  readonly db: TestStore;
  readonly replicas: Replica[];
  /** Starts a replica named `name` with the world's kubeconfig, database and namespace. */
  start(name: string, env?: NodeJS.ProcessEnv): Replica;
  /** Applies `count` two-step pipelines `p0..`, each step running `duration`. */
  pipelines(count: number, duration?: string, prefix?: string): Promise<string[]>;
  close(): Promise<void>;
}

export async function haWorld(prefix: string, env: NodeJS.ProcessEnv = {}): Promise<HaWorld> {
  const { plane, ns } = await restrictedNamespace(prefix);
  const db = await freshStore(5);
  const replicas: Replica[] = [];
  const world: HaWorld = {
    plane,
    ns,
    db,
    replicas,
    start(name, extra = {}) {
      const r = startReplica(name, {
        KUBECONFIG: plane.kubeconfigPath,
        DATABASE_URL: db.url,
        WATCH_NAMESPACE: ns,
        LEADER_ELECTION_NAMESPACE: ns,
        ...FAST,
        ...env,
        ...extra,
      });
      replicas.push(r);
      return r;
    },
    async pipelines(count, duration = '2s', namePrefix = 'p') {
      const docs: unknown[] = [plugin('work')];
      const names = Array.from({ length: count }, (_, i) => `${namePrefix}${i}`);
      for (const name of names)
        docs.push(
          pipeline(name, {
            steps: [
              { name: 'a', plugin: 'work', podMetadata: fake(0, duration) },
              { name: 'b', plugin: 'work', dependsOn: ['a'], podMetadata: fake(0, duration) },
            ],
          }),
        );
      await plane.kubectl(['apply', '-n', ns, '-f', '-'], docs.map((d) => stringify(d)).join('---\n'));
      return names;
    },
    async close() {
      for (const r of replicas) r.signal('SIGCONT');
      await Promise.all(replicas.map((r) => r.stop()));
      await db.close();
    },
  };
  return world;
}

/** holderIdentity of every bucket Lease ('' when released). */
export async function leaseHolders(plane: ControlPlane, ns: string): Promise<Map<string, string>> {
  const list = JSON.parse(
    await plane.kubectl(['get', 'leases', '-n', ns, '-l', 'flexcore.io/election=bucket', '-o', 'json']),
  ) as { items: { metadata: { name: string }; spec: { holderIdentity?: string } }[] };
  return new Map(list.items.map((l) => [l.metadata.name, l.spec.holderIdentity ?? '']));
}

/** The replica that leads `scope` by its own metrics (undefined when none says so). */
export async function leaderOf(replicas: readonly Replica[], scope: string): Promise<Replica | undefined> {
  for (const r of replicas.filter((x) => x.alive())) {
    const up = await r.metric('leader_election_master_status', { name: scope }).catch(() => 0);
    if (up === 1) return r;
  }
  return undefined;
}

export async function waitForLeader(
  replicas: readonly Replica[],
  scope: string,
  timeoutMs = 30_000,
  except?: Replica,
): Promise<Replica> {
  return eventually(
    async () => {
      const r = await leaderOf(
        replicas.filter((x) => x !== except),
        scope,
      );
      return r ?? false;
    },
    timeoutMs,
    `a leader of ${scope}`,
  );
}

export async function phases(plane: ControlPlane, ns: string): Promise<Map<string, string | undefined>> {
  const list = JSON.parse(await plane.kubectl(['get', 'flexpipelines', '-n', ns, '-o', 'json'])) as {
    items: { metadata: { name: string }; status?: FlexPipelineStatus }[];
  };
  return new Map(list.items.map((p) => [p.metadata.name, p.status?.phase]));
}

export async function allSucceeded(plane: ControlPlane, ns: string, timeoutMs = 120_000): Promise<void> {
  await eventually(
    async () => [...(await phases(plane, ns)).values()].every((p) => p === 'Succeeded'),
    timeoutMs,
    'every pipeline to succeed',
  );
}

/** Fencing tokens of one fence as written on events, in commit order: they never go down. */
export async function expectTokensNeverDecrease(db: TestStore): Promise<void> {
  const { rows } = await db.pool.query<{ fence: string; token: string }>(
    'SELECT fence, fencing_token AS token FROM flexcore.events ORDER BY position',
  );
  const newest = new Map<string, number>();
  for (const r of rows) {
    const t = Number(r.token);
    expect(t, `token on ${r.fence}`).to.be.at.least(newest.get(r.fence) ?? 0);
    newest.set(r.fence, t);
  }
}

/**
 * No two replicas ever led one scope at the same time (terms from their logs, on one machine's
 * clock), and tokens rise with every new term.
 */
export function expectNoOverlappingTerms(replicas: readonly Replica[]): void {
  const spans = replicas.flatMap(terms).sort((x, y) => x.from - y.from);
  const byScope = new Map<string, typeof spans>();
  for (const s of spans) byScope.set(s.scope, [...(byScope.get(s.scope) ?? []), s]);
  for (const [scope, list] of byScope) {
    for (let i = 1; i < list.length; i++) {
      const [prev, next] = [list[i - 1]!, list[i]!];
      expect(next.from, `${scope}: ${next.replica} began before ${prev.replica}'s term ended`).to.be.at.least(
        prev.to,
      );
      expect(next.token, `${scope}: token of ${next.replica}`).to.be.greaterThan(prev.token);
    }
  }
}
