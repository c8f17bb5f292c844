/**
 * A term: one replica's leadership of one scope with one fencing token. A reconcile takes the
 * term of its key's scope at the start and carries it: appends carry its fencing token (the
 * database refuses a stale one), Kubernetes writes ask it first (refused once the term ended
 * or its renewal is overdue). A term never comes back: a new acquisition is a new term.
 */
import type { Fencing } from '../store/event-store.js';

export interface Term {
  readonly scope: string;
  readonly fencing: Fencing;
  /** Throws NotLeaderError unless this term still holds (right before a Kubernetes write). */
  assertMayWrite(): void;
  /** Ends the term at once: the database refused its token, so someone newer leads. */
  revoke(reason: string): void;
}
