import { expect } from 'chai';
import { KubernetesAuth, type ReviewClient } from '../../controller/server/auth/kubernetes-auth.js';
import type { ApiProblem } from '../../controller/server/problem.js';
import { FakeClock } from './support/fake-clock.js';

/** Answers TokenReviews and SubjectAccessReviews from tables, counting calls (the apiserver's part). */
class FakeApiserver implements ReviewClient {
  calls: { path: string; body: { spec: Record<string, unknown> } }[] = [];
  users: Record<string, { username: string; groups: string[] }> = {
    good: { username: 'system:serviceaccount:a:reader', groups: ['system:serviceaccounts'] },
  };
  allowed = new Set<string>(['list flexpipelines a']);
  down = false;

  create<T>(path: string, body: unknown): Promise<T> {
    const b = body as { spec: Record<string, unknown> };
    this.calls.push({ path, body: b });
    if (this.down) return Promise.reject(new Error('connect ECONNREFUSED'));
    if (path.endsWith('/tokenreviews')) {
      const user = this.users[b.spec.token as string];
      return Promise.resolve({
        status: user ? { authenticated: true, user } : { authenticated: false },
      } as T);
    }
    const ra = b.spec.resourceAttributes as { verb: string; resource: string; namespace?: string };
    const ok = this.allowed.has(`${ra.verb} ${ra.resource} ${ra.namespace ?? '*'}`);
    return Promise.resolve({ status: { allowed: ok } } as T);
  }
}

async function problemOf(p: Promise<unknown>): Promise<ApiProblem> {
  try {
    await p;
  } catch (err) {
    return err as ApiProblem;
  }
  throw new Error('expected a problem');
}

describe('KubernetesAuth: TokenReview and SubjectAccessReview with a decision cache', () => {
  let apiserver: FakeApiserver;
  let clock: FakeClock;
  let auth: KubernetesAuth;
  beforeEach(() => {
    apiserver = new FakeApiserver();
    clock = new FakeClock();
    auth = new KubernetesAuth(apiserver, { clock, allowTtlMs: 60_000, denyTtlMs: 10_000 });
  });

  it('answers 401 without a bearer token, with a malformed header, and for a token the apiserver refuses', async () => {
    for (const header of [undefined, 'Basic abc', 'Bearer', 'Bearer bad']) {
      const p = await problemOf(auth.authenticate(header));
      expect(p.status, String(header)).to.equal(401);
      expect(p.headers['WWW-Authenticate']).to.match(/^Bearer/);
    }
  });

  it('asks as the real user and groups, and caches allowed decisions for a minute', async () => {
    const caller = await auth.authenticate('Bearer good');
    expect(caller.username).to.equal('system:serviceaccount:a:reader');
    const access = { verb: 'list', resource: 'flexpipelines', namespace: 'a' } as const;
    expect(await auth.allowed(caller, access)).to.equal(true);
    expect(await auth.allowed(caller, access)).to.equal(true);
    await auth.authenticate('Bearer good');
    expect(apiserver.calls.length, 'one TokenReview, one SubjectAccessReview').to.equal(2);
    const sar = apiserver.calls[1]!.body.spec;
    expect(sar).to.deep.include({
      user: 'system:serviceaccount:a:reader',
      groups: ['system:serviceaccounts'],
    });
    expect(sar.resourceAttributes).to.deep.equal({
      group: 'flexcore.io',
      resource: 'flexpipelines',
      verb: 'list',
      namespace: 'a',
    });
    clock.advance(60_001);
    await auth.allowed(caller, access);
    expect(apiserver.calls.length, 'asked again after the TTL').to.equal(3);
  });

  it('keeps refusals for a shorter time, so a new RoleBinding takes effect soon', async () => {
    const caller = await auth.authenticate('Bearer good');
    const access = { verb: 'list', resource: 'flexpipelines', namespace: 'b' } as const;
    expect(await auth.allowed(caller, access)).to.equal(false);
    apiserver.allowed.add('list flexpipelines b');
    expect(await auth.allowed(caller, access)).to.equal(false);
    clock.advance(10_001);
    expect(await auth.allowed(caller, access)).to.equal(true);
  });

  it('shares one review among concurrent identical requests', async () => {
    const caller = await auth.authenticate('Bearer good');
    const access = { verb: 'list', resource: 'flexpipelines', namespace: 'a' } as const;
    await Promise.all(Array.from({ length: 10 }, () => auth.allowed(caller, access)));
    expect(apiserver.calls.filter((c) => c.path.endsWith('subjectaccessreviews')).length).to.equal(1);
  });

  it('answers 503 when the apiserver cannot be asked, and does not cache that', async () => {
    apiserver.down = true;
    const p = await problemOf(auth.authenticate('Bearer good'));
    expect(p.status).to.equal(503);
    expect(p.headers['Retry-After']).to.equal('5');
    apiserver.down = false;
    expect((await auth.authenticate('Bearer good')).username).to.equal('system:serviceaccount:a:reader');
  });
});
