/**
 * One planning pass over a pipeline (Argo's operation object, pure): it works on a copy of the
 * history, and every decision is an event appended to `events` and folded into that copy at
 * once, so later decisions in the same pass see it. Side effects are only described
 * (`actions`); the reconciler records the events first, then performs the actions.
 */
import { deterministicEventId } from '../store/event-store.js';
import type { NewEvent } from '../store/recorded-event.js';
import type { PipelineObject, PluginObject } from '../objects.js';
import type { CachedCatalog } from '../store/catalog-store.js';
import { applyEvent, type History } from './history.js';
import type { ObservedPod } from './observed-pod.js';
import type { RecordCounts } from './singer-records.js';

/** Container name → log text (or a line saying why it could not be read). */
export type PodLogs = Readonly<Record<string, string>>;

/** A catalog the planner needs read: the cache entry of a key, or a user's ConfigMap. */
export type CatalogRequest =
  | { readonly kind: 'cached'; readonly key: string }
  | { readonly kind: 'configMap'; readonly name: string; readonly key: string };

/** What was read for a CatalogRequest: a cache entry or null, a ConfigMap's text or why not. */
export type CatalogFetch = CachedCatalog | null | { readonly text: string } | { readonly missing: string };

/** The map key of a request. */
export function catalogRequestId(r: CatalogRequest): string {
  return r.kind === 'cached' ? `cached:${r.key}` : `configMap:${r.name}/${r.key}`;
}

export type Action =
  | {
      readonly kind: 'createPod';
      readonly runId: string;
      readonly runKey: string;
      readonly step: string;
      readonly attempt: number;
      readonly pod: string;
      /** A discovery Pod rather than the attempt's sync Pod. */
      readonly discover?: boolean;
    }
  | { readonly kind: 'deletePod'; readonly pod: string; readonly reason: string }
  | { readonly kind: 'deleteSecret'; readonly name: string }
  | {
      readonly kind: 'event';
      readonly type: 'Normal' | 'Warning';
      readonly reason: string;
      readonly note: string;
      /** Unique per Kubernetes Event: the id of the recorded event behind it (filled by `act`). */
      readonly key?: string;
    };

export interface PlanInput {
  readonly pipeline: PipelineObject;
  readonly plugins: ReadonlyMap<string, PluginObject>;
  readonly history: History;
  readonly pods: readonly ObservedPod[];
  /** Logs of Pods the planner asked for (`needLogs`) in an earlier pass. */
  readonly logs: ReadonlyMap<string, PodLogs>;
  /** Singer record counts of those Pods' containers whose logs have METRIC lines, read with them. */
  readonly recordCounts?: ReadonlyMap<string, Readonly<Record<string, RecordCounts>>>;
  /** Catalogs the planner asked for (`needCatalogs`) in an earlier pass, by catalogRequestId. */
  readonly catalogs?: ReadonlyMap<string, CatalogFetch>;
  readonly now: number;
  readonly stream: string;
  /** Why no new run may start (invalid spec, missing plugin); active runs still go on. */
  readonly startBlocked?: string;
  /** How long a container may wait on a bad image or config before its attempt fails. */
  readonly startGraceMs: number;
}

export class Plan {
  readonly history: History;
  readonly events: NewEvent[] = [];
  readonly actions: Action[] = [];
  /** Pods whose logs must be read before the attempt can be recorded as finished. */
  readonly needLogs = new Set<string>();
  /** Catalogs that must be read before a tap step's attempt can be scheduled. */
  readonly needCatalogs = new Map<string, CatalogRequest>();
  /** Catalog bodies by digest, stored before the events that name them are appended. */
  readonly blobs = new Map<string, string>();
  /** Catalogs discovered in this pass, by cache key: later decisions of the pass use them. */
  private readonly discovered = new Map<string, CachedCatalog>();
  /** The earliest time something becomes due (retry, timeout, deadline, tick). */
  wakeAt: number | undefined;
  /** Why nothing starts although something is pending (e.g. Forbid), for status. */
  waiting: string | undefined;

  constructor(readonly input: PlanInput) {
    this.history = structuredClone(input.history);
  }

  get now(): number {
    return this.input.now;
  }

  /** Records a decision: an event with a deterministic id, folded into the working history. */
  emit(type: string, data: Record<string, unknown>, ...idParts: (string | number)[]): void {
    const at = typeof data.at === 'string' ? data.at : new Date(this.now).toISOString();
    const event: NewEvent = {
      id: deterministicEventId(this.input.stream, type, ...idParts),
      type,
      data: { ...data, at },
    };
    this.events.push(event);
    applyEvent(this.history, {
      type,
      data: event.data,
      recordedAt: new Date(at),
      streamVersion: this.history.version + 1,
      position: this.history.lastPosition ?? 0,
    });
  }

  act(action: Action): void {
    // A step scheduled in this pass is seen again by the next pass: one create is enough.
    if (
      action.kind === 'createPod' &&
      this.actions.some((a) => a.kind === 'createPod' && a.pod === action.pod)
    )
      return;
    const last = this.events[this.events.length - 1];
    this.actions.push(
      action.kind === 'event' && !action.key ? { ...action, key: `${last?.id}/${action.reason}` } : action,
    );
  }

  wake(at: number): void {
    this.wakeAt = this.wakeAt === undefined ? at : Math.min(this.wakeAt, at);
  }

  pod(name: string): ObservedPod | undefined {
    return this.input.pods.find((p) => p.name === name);
  }

  /** A catalog as read for `request`, or undefined after asking the reconciler to read it. */
  catalog(request: CatalogRequest): CatalogFetch | undefined {
    if (request.kind === 'cached' && this.discovered.has(request.key))
      return this.discovered.get(request.key);
    const id = catalogRequestId(request);
    const fetched = this.input.catalogs?.get(id);
    if (fetched === undefined) this.needCatalogs.set(id, request);
    return fetched;
  }

  /** Remembers a catalog discovered in this pass (its body goes to the store with the events). */
  learnCatalog(key: string, catalog: CachedCatalog): void {
    this.discovered.set(key, catalog);
    this.blobs.set(catalog.digest, catalog.text);
  }

  /** The logs of a finished Pod, or undefined after asking the reconciler to read them. */
  logs(pod: string): PodLogs | undefined {
    const logs = this.input.logs.get(pod);
    if (!logs) this.needLogs.add(pod);
    return logs;
  }
}

/** ISO time of a millisecond timestamp, for event data. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
