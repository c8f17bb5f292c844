/**
 * The thin side-effect layer of the pipeline reconciler: it performs what a plan describes
 * (after its events are recorded) against the Kubernetes API. Every call is idempotent:
 * AlreadyExists and NotFound are success, so a repeated reconcile converges.
 */
import type { V1ConfigMap, V1NetworkPolicy, V1Pod, V1Secret } from '@kubernetes/client-node';
import type { FlexPipeline, FlexPlugin, Step } from '../../api/v1alpha1/index.js';
import type { KubeClient, WriteGuard } from '../apply/kube-client.js';
import { isAlreadyExists, isNotFound } from '../kube/api-status-error.js';
import type { Logger } from '../log.js';
import type { PipelineObject, PluginObject } from '../objects.js';
import { RequeueAfterError, TerminalError } from '../reconcile/errors.js';
import type { CatalogStore } from '../store/catalog-store.js';
import type { ReadModels } from '../store/read-models.js';
import type { RunState } from './history.js';
import { LABELS, MANAGED_BY } from './labels.js';
import { renderAttemptConfig, renderNetworkPolicies, renderPod, type AttemptInput } from './render/index.js';
import { CONTAINERS } from './render/layout.js';
import { DISCOVERY_CATALOG_LIMIT } from './render/discovery-wrapper.js';
import { stateIdOf } from './state-id.js';
import { RecordCounter, type RecordCounts } from './singer-records.js';
import { traceparentOf } from './trace-ids.js';
import { asSingerCatalog } from '../catalog/singer-catalog.js';
import { stateForCatalog } from '../catalog/state-bookmarks.js';

/** Lines of a container's log read when its attempt finishes (the tail kept is bounded again). */
const LOG_TAIL_LINES = 2000;
/** The most of a log read for its record counts: a reconcile waits for it (~1 s per 100 MiB). */
const WHOLE_LOG_READ_BYTES = 256 * 1024 * 1024;

/** Whether a log read by readLog is the whole log: fewer lines than the tail asked for. */
export function holdsWholeLog(text: string): boolean {
  let lines = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
  return lines < LOG_TAIL_LINES - 1;
}

const core = (ns: string): string => `/api/v1/namespaces/${ns}`;
const netpol = (ns: string): string => `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies`;
const asApi = <T>(o: PipelineObject | PluginObject): T => o as unknown as T;

/** Delay before trying again to create an attempt whose config cannot be rendered yet. */
export const CONFIG_RETRY_MS = 15_000;

/** How much of a discovery log is read: the catalog's limit and room for the tap's own lines before it. */
export const DISCOVERY_LOG_READ_BYTES = DISCOVERY_CATALOG_LIMIT + 1024 * 1024;

/** The largest ConfigMap value read as a catalog (a ConfigMap holds at most 1 MiB). */
const CONFIG_MAP_LIMIT = 1024 * 1024;

export class PipelineActions {
  /** Per pipeline uid, the generation and plugin versions its NetworkPolicies were last applied for. */
  private readonly policiesApplied = new Map<string, string>();

  constructor(
    private readonly kube: KubeClient,
    private readonly readModels: ReadModels,
    private readonly catalogs: CatalogStore,
    private readonly logger: Logger,
    /** Pass each attempt's trace context (TRACEPARENT) into its containers: tracing is on. */
    private readonly traceContext = false,
  ) {}

  /**
   * Creates the config Secret and the Pod of an attempt (NetworkPolicies first). Every write
   * asks `guard` first: a replica that stopped leading the pipeline's scope writes nothing.
   */
  async createAttempt(
    p: PipelineObject,
    plugins: ReadonlyMap<string, PluginObject>,
    run: RunState,
    step: Step,
    attempt: number,
    pod: string,
    guard: WriteGuard,
    discover = false,
  ): Promise<void> {
    await this.ensureNetworkPolicies(p, plugins, guard);
    const input = await this.attemptInput(p, plugins, run, step, attempt, pod, discover);
    const config = renderAttemptConfig(input);
    if ('problems' in config) {
      const first = config.problems[0]!;
      throw new RequeueAfterError(`step ${step.name}: ${first.message} (${first.reason})`, CONFIG_RETRY_MS);
    }
    const ns = p.metadata.namespace;
    if ('secret' in config) await this.createIgnoringExisting(`${core(ns)}/secrets`, config.secret, guard);
    const created = await this.createIgnoringExisting<V1Pod>(`${core(ns)}/pods`, renderPod(input), guard);
    const owner = created?.metadata?.ownerReferences?.find((o) => o.controller);
    // A Pod of that name that is not this pipeline's (another owner, or none) is never adopted.
    if (created && owner?.uid !== p.metadata.uid) {
      throw new TerminalError(
        `Pod ${pod} exists and is not this pipeline's (${owner ? `it belongs to ${owner.kind} ${owner.name}` : 'it has no owner'}); delete or rename it`,
        'PodNameTaken',
      );
    }
  }

  async deletePod(ns: string, name: string, guard: WriteGuard): Promise<void> {
    await this.ignoreNotFound(
      this.kube.delete(`${core(ns)}/pods/${name}`, { propagationPolicy: 'Background' }, guard),
    );
  }

  async deleteSecret(ns: string, name: string, guard: WriteGuard): Promise<void> {
    await this.ignoreNotFound(this.kube.delete(`${core(ns)}/secrets/${name}`, undefined, guard));
  }

  /**
   * The last lines of a container's log; a line saying why when it cannot be read. A discovery
   * log is read from its start (the catalog follows the tap's lines), up to a bound.
   */
  async readLog(ns: string, pod: string, container: string): Promise<string> {
    if (container === CONTAINERS.discover) return this.readDiscoveryLog(ns, pod);
    return this.readLogPath(
      `${core(ns)}/pods/${pod}/log?container=${encodeURIComponent(container)}&tailLines=${LOG_TAIL_LINES}`,
    );
  }

  /** The Singer record counts in a container's whole log, read line by line; undefined if unreadable. */
  async countRecords(ns: string, pod: string, container: string): Promise<RecordCounts | undefined> {
    const counter = new RecordCounter();
    let bytes = 0;
    try {
      await this.kube.eachLine(
        `${core(ns)}/pods/${pod}/log?container=${encodeURIComponent(container)}&limitBytes=${WHOLE_LOG_READ_BYTES}`,
        (line) => {
          bytes += Buffer.byteLength(line) + 1;
          counter.add(line);
        },
      );
      if (bytes >= WHOLE_LOG_READ_BYTES) counter.cut();
    } catch (err) {
      this.logger.warn('the log could not be read for its Singer record counts', {
        namespace: ns,
        pod,
        container,
        error: (err as Error).message.slice(0, 300),
      });
      return undefined;
    }
    return counter.counts();
  }

  /** A discovery log from its start (the catalog follows the tap's own lines), up to a bound. */
  private readDiscoveryLog(ns: string, pod: string): Promise<string> {
    return this.readLogPath(
      `${core(ns)}/pods/${pod}/log?container=${CONTAINERS.discover}&limitBytes=${DISCOVERY_LOG_READ_BYTES}`,
    );
  }

  private async readLogPath(path: string): Promise<string> {
    try {
      return await this.kube.getText(path);
    } catch (err) {
      return `[flexcore: the log could not be read: ${(err as Error).message.slice(0, 300)}]`;
    }
  }

  /** A user's catalog from a ConfigMap key, or why it cannot be used. */
  async readConfigMapCatalog(
    ns: string,
    name: string,
    key: string,
  ): Promise<{ text: string } | { missing: string }> {
    try {
      const cm = await this.kube.get<V1ConfigMap>(`${core(ns)}/configmaps/${name}`);
      const text = cm.data?.[key];
      if (text === undefined) return { missing: `ConfigMap "${name}" has no key "${key}"` };
      if (Buffer.byteLength(text) > CONFIG_MAP_LIMIT)
        return { missing: `ConfigMap "${name}" key "${key}" is over 1 MiB` };
      return { text };
    } catch (err) {
      if (!isNotFound(err)) throw err;
      return { missing: `ConfigMap "${name}" was not found` };
    }
  }

  /** The final catalog of a sync attempt, as its StepAttemptScheduled named it (digest and flag). */
  private async catalogOf(run: RunState, step: Step, attempt: number): Promise<AttemptInput['catalog']> {
    const named = run.steps[step.name]?.attempts.find((a) => a.attempt === attempt)?.catalog;
    if (named === undefined) return undefined;
    const body = await this.catalogs.body(named.digest);
    if (body === null)
      throw new TerminalError(
        `step ${step.name}: catalog ${named.digest} is not in the store`,
        'CatalogLost',
      );
    return { content: JSON.parse(body) as unknown, flag: named.flag };
  }

  /**
   * The stored state the tap starts from, less bookmarks kept on another replication key than
   * its catalog names now (said in the log: that stream starts again from nothing).
   */
  private async startingState(
    p: PipelineObject,
    step: Step,
    catalog: AttemptInput['catalog'],
  ): Promise<Record<string, unknown> | undefined> {
    const stored = await this.readModels.singerState(stateIdOf(p, step));
    if (!stored || !catalog) return stored;
    const { state, dropped } = stateForCatalog(stored, asSingerCatalog(catalog.content));
    for (const d of dropped) {
      this.logger.warn(
        'Singer bookmark dropped: its stream now replicates on another key, so it starts again from nothing',
        {
          namespace: p.metadata.namespace,
          pipeline: p.metadata.name,
          step: step.name,
          stream: d.stream,
          bookmarkKey: d.was,
          catalogKey: d.now,
        },
      );
    }
    return state;
  }

  private async attemptInput(
    p: PipelineObject,
    plugins: ReadonlyMap<string, PluginObject>,
    run: RunState,
    step: Step,
    attempt: number,
    pod: string,
    discover: boolean,
  ): Promise<AttemptInput> {
    const plugin = plugins.get(step.plugin);
    const targetPlugin = step.target ? plugins.get(step.target.plugin) : undefined;
    if (!plugin || (step.target && !targetPlugin)) {
      throw new RequeueAfterError(`step ${step.name}: a plugin it needs is gone`, CONFIG_RETRY_MS);
    }
    const refresh = run.fullRefresh.includes('*') || run.fullRefresh.includes(step.name);
    // The state capability is what says a tap takes --state.
    const wantsState =
      !discover &&
      plugin.spec.type === 'tap' &&
      (plugin.spec.capabilities ?? []).includes('state') &&
      !refresh;
    const catalog = discover ? undefined : await this.catalogOf(run, step, attempt);
    const recorded = run.steps[step.name]?.attempts.find((a) => a.attempt === attempt);
    const inlineConfig = !discover && recorded?.inlineConfig === true;
    return {
      ...(discover && { discover }),
      ...(catalog && { catalog }),
      pipeline: asApi<FlexPipeline>({ ...p, spec: run.spec }),
      step,
      plugin: asApi<FlexPlugin>(plugin),
      ...(targetPlugin && { targetPlugin: asApi<FlexPlugin>(targetPlugin) }),
      runId: run.id,
      runKey: run.key,
      attempt,
      podName: pod,
      secretName: pod,
      ...(inlineConfig && { inlineConfig }),
      ...(this.traceContext && { traceparent: traceparentOf(run.id, step.name, attempt) }),
      singerState: wantsState ? await this.startingState(p, step, catalog) : undefined,
      secrets: await this.readSecrets(p.metadata.namespace, step),
    };
  }

  /** The user Secrets a step's configFrom names (missing ones are left out: the renderer reports them). */
  private async readSecrets(ns: string, step: Step): Promise<Map<string, Record<string, string>>> {
    const names = new Set(
      [...(step.configFrom ?? []), ...(step.target?.configFrom ?? [])].map(
        (f) => f.secretKeyRef?.name ?? f.secretRef?.name ?? '',
      ),
    );
    const secrets = new Map<string, Record<string, string>>();
    for (const name of [...names].filter(Boolean)) {
      try {
        const s = await this.kube.get<V1Secret>(`${core(ns)}/secrets/${name}`);
        const data = Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]);
        secrets.set(name, Object.fromEntries(data) as Record<string, string>);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return secrets;
  }

  /** Server-side applies the pipeline's NetworkPolicies and removes ones of steps that are gone. */
  private async ensureNetworkPolicies(
    p: PipelineObject,
    plugins: ReadonlyMap<string, PluginObject>,
    guard: WriteGuard,
  ): Promise<void> {
    const versions = [...plugins.values()].map((x) => x.metadata.resourceVersion).join(',');
    const uid = p.metadata.uid;
    const key = `${p.metadata.generation}@${versions}`;
    if (this.policiesApplied.get(uid) === key) return;
    const ns = p.metadata.namespace;
    const wanted = renderNetworkPolicies(asApi<FlexPipeline>(p), plugins as ReadonlyMap<string, never>);
    for (const policy of wanted) {
      await this.kube.patch(
        `${netpol(ns)}/${policy.metadata!.name}?fieldManager=flexcore&force=true`,
        policy,
        'apply',
        guard,
      );
    }
    // A first generation never had other steps: nothing stale to look for.
    if ((p.metadata.generation ?? 1) <= 1) {
      this.policiesApplied.set(uid, key);
      return;
    }
    const selector = `${MANAGED_BY.key}=${MANAGED_BY.value},${LABELS.pipelineUid}=${p.metadata.uid}`;
    const existing = await this.kube.get<{ items: V1NetworkPolicy[] }>(
      `${netpol(ns)}?labelSelector=${encodeURIComponent(selector)}`,
    );
    const names = new Set(wanted.map((w) => w.metadata!.name));
    for (const old of existing.items.filter((i) => !names.has(i.metadata!.name))) {
      await this.ignoreNotFound(this.kube.delete(`${netpol(ns)}/${old.metadata!.name}`, undefined, guard));
    }
    this.policiesApplied.set(uid, key);
  }

  /** Drops what is remembered of a pipeline that is gone. */
  forget(uid: string): void {
    this.policiesApplied.delete(uid);
  }

  private async createIgnoringExisting<T>(
    path: string,
    body: unknown,
    guard: WriteGuard,
  ): Promise<T | undefined> {
    try {
      await this.kube.create<T>(path, body, guard);
      return undefined;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const name = (body as { metadata: { name: string } }).metadata.name;
      this.logger.debug('already exists', { path, name });
      return this.kube.get<T>(`${path}/${name}`);
    }
  }

  private async ignoreNotFound(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
