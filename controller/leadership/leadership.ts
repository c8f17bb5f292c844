/**
 * The seam between the engine and leader election: "may I work now" and "with which fencing
 * token". Leader election (Lease + Redis) comes later; the default is a single replica that
 * is always the leader and takes a fencing token newer than any the database has seen, so
 * an older instance still running somewhere is fenced off at its next append.
 */
import type { Fencing } from '../store/event-store.js';
import type { ReadModels } from '../store/read-models.js';

export interface Leadership {
  /** True while this replica may reconcile and write. */
  isLeader(): boolean;
  /** The fencing token every append carries. */
  fencing(): Fencing;
}

/** The fence (leader-election scope) of the pipeline engine. */
export const ENGINE_FENCE = 'flexcore-engine';

export class SingleReplicaLeadership implements Leadership {
  private constructor(private readonly token: number) {}

  /** Takes the token after the newest the database has accepted. */
  static async acquire(readModels: ReadModels, fence = ENGINE_FENCE): Promise<SingleReplicaLeadership> {
    return new SingleReplicaLeadership((await readModels.newestToken(fence)) + 1);
  }

  isLeader(): boolean {
    return true;
  }

  fencing(): Fencing {
    return { fence: ENGINE_FENCE, token: this.token };
  }
}
