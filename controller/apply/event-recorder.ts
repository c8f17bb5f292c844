/**
 * Kubernetes Events (events.k8s.io/v1) for transitions a user cares about. Best effort: a
 * failed Event never fails a reconcile. Names derive from the recorded event, so a repeated
 * reconcile never posts the same Event twice.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../log.js';
import { isAlreadyExists } from '../kube/api-status-error.js';
import type { KubeClient, WriteGuard } from './kube-client.js';

export const REPORTING_CONTROLLER = 'flexcore.io/controller';

export interface Regarding {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace: string; readonly uid: string };
}

export interface KubeEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  /** Human-readable; never carries a secret (callers only put names and phases in it). */
  readonly note: string;
  /** What makes this Event unique (e.g. the id of the recorded event behind it). */
  readonly key: string;
}

export class EventRecorder {
  private readonly instance = hostname();

  constructor(
    private readonly kube: KubeClient,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async record(regarding: Regarding, event: KubeEvent, guard?: WriteGuard): Promise<void> {
    const { name, namespace, uid } = regarding.metadata;
    const suffix = createHash('sha256').update(`${uid}/${event.key}`).digest('hex').slice(0, 12);
    const body = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: `${name.slice(0, 200)}.${suffix}`, namespace },
      eventTime: new Date(this.now()).toISOString().replace('Z', '000Z'),
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.instance.slice(0, 128),
      action: event.reason,
      reason: event.reason,
      note: event.note.slice(0, 1024),
      type: event.type,
      regarding: { apiVersion: regarding.apiVersion, kind: regarding.kind, name, namespace, uid },
    };
    try {
      await this.kube.create(`/apis/events.k8s.io/v1/namespaces/${namespace}/events`, body, guard);
    } catch (err) {
      // Best effort, except that a replica that stopped leading stops right here.
      if ((err as Error).name === 'NotLeaderError') throw err;
      if (!isAlreadyExists(err))
        this.logger.warn('could not record a Kubernetes Event', {
          reason: event.reason,
          error: (err as Error).message,
        });
    }
  }
}
