/**
 * Bad election settings end the controller at once with one clear line (exit 2), never a crash
 * loop without a message; an unreachable Redis is a degraded start on Leases alone.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../hack/plane/ports.js';
import { REPO_ROOT } from './support/async.js';
import { allSucceeded, haWorld, waitForLeader, type HaWorld } from './support/ha.js';

function controller(
  env: NodeJS.ProcessEnv,
  args: string[] = [],
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, 'controller/cli/flexcore.mjs'), 'controller', ...args],
      {
        env: { ...process.env, KUBECONFIG: '/nonexistent', DATABASE_URL: 'postgres://127.0.0.1:1/x', ...env },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

describe('high availability: bad settings', function () {
  this.timeout(120_000);

  const cases: [string, NodeJS.ProcessEnv, string[], RegExp][] = [
    ['zero buckets', { FLEXCORE_BUCKETS: '0' }, [], /buckets must be an integer from 1 to 256, got 0/],
    [
      'a renew deadline above the lease',
      { LEADER_ELECTION_RENEW_DEADLINE: '20s' },
      [],
      /must be greater than the renew deadline/,
    ],
    [
      'a retry period too close to the deadline',
      {},
      ['--leader-election-retry-period=9s'],
      /greater than 1.2 × the retry period/,
    ],
    [
      'a duration that is not one',
      { LEADER_ELECTION_LEASE_DURATION: 'long' },
      [],
      /"long" is not a duration/,
    ],
    ['a flag that does not exist', {}, ['--bukets=4'], /unknown flag --bukets/],
  ];
  for (const [what, env, args, message] of cases) {
    it(`refuses ${what} with one line and exit 2`, async () => {
      const { code, stderr } = await controller(env, args);
      expect(code).to.equal(2);
      const lines = stderr.trim().split('\n');
      expect(lines, stderr).to.have.length(1);
      expect(lines[0]).to.match(/^flexcore controller: /);
      expect(lines[0]).to.match(message);
    });
  }

  describe('an unreachable REDIS_URL at start', () => {
    let world: HaWorld;
    after(async () => world?.close());

    it('starts degraded on Leases alone, leads, and says so once', async () => {
      world = await haWorld('ha-noredis', { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
      const r = world.start('replica-a');
      await waitForLeader([r], 'flexcore-engine-0-of-1');
      const ready = await r.readyz();
      expect(ready.ready).to.equal(true);
      expect(ready.details?.leadership).to.include({ redis: 'degraded', mode: 'elected' });
      expect(await r.metric('flexcore_redis_up')).to.equal(0);
      await world.pipelines(2, '0s');
      await allSucceeded(world.plane, world.ns, 60_000);
      const said = r.lines.filter((l) => /Redis is unreachable/.test(l.message));
      expect(said, 'one line about Redis').to.have.length(1);
      expect(r.alive()).to.equal(true);
    });
  });
});
