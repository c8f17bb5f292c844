/** Leader-election metrics; the master-status gauge keeps controller-runtime's name. */
import { Counter, Gauge, type Registry } from 'prom-client';

export interface LeadershipMetrics {
  /** 1 while this replica leads scope `name` (controller-runtime: leader_election_master_status). */
  readonly masterStatus: Gauge<'name'>;
  /** This replica's changes of leadership, by scope and event (acquired, lost, released). */
  readonly transitions: Counter<'name' | 'event'>;
  /** The fencing token of the term this replica holds (0 when none). */
  readonly token: Gauge<'name'>;
}

export function leadershipMetrics(registry: Registry): LeadershipMetrics {
  return {
    masterStatus: new Gauge({
      name: 'leader_election_master_status',
      help: 'Whether this replica is the leader of the scope (1) or not (0).',
      labelNames: ['name'],
      registers: [registry],
    }),
    transitions: new Counter({
      name: 'flexcore_leader_transitions_total',
      help: 'Changes of leadership of this replica, by scope and event (acquired, lost, released).',
      labelNames: ['name', 'event'],
      registers: [registry],
    }),
    token: new Gauge({
      name: 'flexcore_leader_fencing_token',
      help: 'The fencing token of the term this replica holds for the scope (0 when it holds none).',
      labelNames: ['name'],
      registers: [registry],
    }),
  };
}
