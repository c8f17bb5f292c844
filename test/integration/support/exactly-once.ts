/**
 * The exactly-once check of crash and failover tests: every two-step pipeline ran once with
 * exactly its events (none twice, none missing), and every step had exactly one Pod.
 */
import { expect } from 'chai';
import type { ControlPlane } from '../../../hack/plane/control-plane.js';
import type { TestStore } from './store.js';

export interface RunWorld {
  readonly db: TestStore;
  readonly plane: ControlPlane;
  readonly ns: string;
}

const TWO_STEP_RUN = [
  'RunStarted',
  'StepAttemptScheduled:a:1',
  'StepAttemptStarted:a:1',
  'LogTailCaptured:a:1:plugin',
  'StepAttemptFinished:a:1',
  'StepAttemptScheduled:b:1',
  'StepAttemptStarted:b:1',
  'LogTailCaptured:b:1:plugin',
  'StepAttemptFinished:b:1',
  'RunFinished',
].sort();

/** Every pipeline ran exactly once with exactly its events, and every step had exactly one Pod. */
export async function expectExactlyOnce(world: RunWorld, count: number): Promise<void> {
  const { rows } = await world.db.pool.query<{
    stream_id: string;
    type: string;
    step: string | null;
    attempt: number | null;
    container: string | null;
  }>(
    `SELECT stream_id, type, data->>'step' AS step, (data->>'attempt')::int AS attempt, data->>'container' AS container
       FROM flexcore.events ORDER BY position`,
  );
  const streams = new Map<string, string[]>();
  for (const r of rows) {
    const list = streams.get(r.stream_id) ?? [];
    list.push([r.type, r.step, r.attempt, r.container].filter((x) => x !== null).join(':'));
    streams.set(r.stream_id, list);
  }
  expect(streams.size, 'streams').to.equal(count);
  for (const [stream, events] of streams) expect([...events].sort(), stream).to.deep.equal(TWO_STEP_RUN);
  const pods = (await world.plane.kubectl(['get', 'pods', '-n', world.ns, '-o', 'name'])).trim().split('\n');
  expect(pods, 'Pods').to.have.length(count * 2);
}
