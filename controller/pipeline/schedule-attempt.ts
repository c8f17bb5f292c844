/**
 * Scheduling one attempt of a step (pure). A Singer tap that takes a catalog gets it first:
 * from the discovery cache, from a user's ConfigMap, or from a discovery Pod run before the
 * sync Pod (discovery-attempt.ts). The rules are applied here, and the final catalog is stored
 * by digest and named in StepAttemptScheduled, so a re-created Pod gets the very same file.
 */
import type { FlexPlugin, Step } from '../../api/v1alpha1/index.js';
import { applyCatalogRules } from '../catalog/catalog-rules.js';
import { catalogDigest } from '../catalog/discovery-output.js';
import { CatalogInvalidError, parseCatalog } from '../catalog/singer-catalog.js';
import { finishAttempt } from './attempts.js';
import { catalogNeed, type CatalogNeed } from './catalog-need.js';
import type { RunState } from './history.js';
import { ANNOTATIONS } from './labels.js';
import { podName } from './naming.js';
import { configGoesInline } from './render/config-carrier.js';
import type { Plan } from './plan.js';

/**
 * The largest final catalog, in bytes: it travels in the attempt's Secret with the config and
 * the state, and a Secret holds at most 1 MiB.
 */
export const CATALOG_FILE_LIMIT = 768 * 1024;

/** The name of an attempt's discovery Pod (and its config Secret). */
export function discoveryPodName(syncPod: string): string {
  return `${syncPod}-discover`;
}

/** The step's plugin as the API type, or undefined when it is gone. */
export function pluginOf(plan: Plan, step: Step): FlexPlugin | undefined {
  return plan.input.plugins.get(step.plugin) as unknown as FlexPlugin | undefined;
}

/** The step's catalog need, `none` when its plugin is gone (the attempt then waits, as before). */
export function needOf(plan: Plan, step: Step): CatalogNeed {
  const plugin = pluginOf(plan, step);
  return plugin ? catalogNeed(step, plugin) : { kind: 'none' };
}

/** Records the attempt as scheduled in its sync Pod (named in the event, created by `scheduleSync`). */
function recordScheduled(
  plan: Plan,
  run: RunState,
  step: Step,
  attempt: number,
  catalog?: Record<string, unknown>,
): string {
  const pod = podName(plan.input.pipeline.metadata.name, run.key, step.name, attempt);
  // Decided once and recorded: whoever finishes or cleans up the attempt knows if it has a Secret.
  const inline = configGoesInline(step, pluginOf(plan, step));
  plan.emit(
    'StepAttemptScheduled',
    {
      runId: run.id,
      step: step.name,
      attempt,
      pod,
      ...(catalog && { catalog }),
      ...(inline && { config: 'inline' }),
    },
    run.id,
    step.name,
    attempt,
  );
  return pod;
}

function scheduleSync(
  plan: Plan,
  run: RunState,
  step: Step,
  attempt: number,
  catalog?: Record<string, unknown>,
): void {
  const pod = recordScheduled(plan, run, step, attempt, catalog);
  plan.act({ kind: 'createPod', runId: run.id, runKey: run.key, step: step.name, attempt, pod });
}

/**
 * Records an attempt that cannot get a Pod (its catalog is unusable) as failed at once. It is
 * first recorded as scheduled in a sync Pod that is never created, so nothing is waited for.
 */
function failBeforePod(
  plan: Plan,
  run: RunState,
  step: Step,
  attempt: number,
  reason: string,
  message: string,
): void {
  const open = run.steps[step.name]?.attempts.find((a) => a.attempt === attempt);
  if (!open || open.phase === 'Discovering') recordScheduled(plan, run, step, attempt);
  const a = run.steps[step.name]!.attempts.find((x) => x.attempt === attempt)!;
  finishAttempt(plan, run, step, a, { phase: 'Failed', reason, message: message.slice(0, 1024) });
  plan.act({ kind: 'event', type: 'Warning', reason, note: `step ${step.name}: ${message}`.slice(0, 1024) });
}

/**
 * Applies the rules to `text` and schedules the sync Pod with the result, or fails the attempt
 * when the catalog is unusable. Patterns that match nothing only warn: the tap then syncs less
 * (possibly nothing), which is what the rules say.
 */
export function scheduleWithCatalog(
  plan: Plan,
  run: RunState,
  step: Step,
  attempt: number,
  text: string,
  need: Extract<CatalogNeed, { kind: 'configMap' | 'discover' }>,
): void {
  let applied;
  try {
    applied = applyCatalogRules(parseCatalog(text), need.rules, { keepSelection: need.kind === 'configMap' });
  } catch (err) {
    if (!(err instanceof CatalogInvalidError)) throw err;
    return failBeforePod(plan, run, step, attempt, 'CatalogInvalid', err.message);
  }
  if (applied.problems.length > 0)
    return failBeforePod(plan, run, step, attempt, 'CatalogInvalid', applied.problems.join('; '));
  const final = JSON.stringify(applied.catalog);
  const bytes = Buffer.byteLength(final);
  if (bytes > CATALOG_FILE_LIMIT) {
    const message = `the catalog is ${bytes} bytes after the rules; it must fit in the attempt's Secret with the config and state (at most ${CATALOG_FILE_LIMIT} bytes): select fewer streams`;
    return failBeforePod(plan, run, step, attempt, 'CatalogTooLarge', message);
  }
  const digest = catalogDigest(final);
  plan.blobs.set(digest, final);
  const selectedStreams = applied.selectedStreams.length;
  scheduleSync(plan, run, step, attempt, { digest, bytes, flag: need.flag, selectedStreams });
  if (applied.unmatched.length > 0) {
    const note = `step ${step.name}: ${applied.unmatched.join(', ')} matched nothing in the catalog; ${selectedStreams} stream(s) selected`;
    plan.act({
      kind: 'event',
      type: 'Warning',
      reason: 'CatalogPatternUnmatched',
      note: note.slice(0, 1024),
    });
  }
}

/** The flexcore.io/rediscover value the step has not answered yet, if any. */
function rediscoverRequest(plan: Plan, step: Step): string | undefined {
  const value = plan.input.pipeline.metadata.annotations?.[ANNOTATIONS.rediscover]?.trim();
  if (!value || plan.history.rediscovered?.[step.name] === value) return undefined;
  return value;
}

function scheduleDiscovery(
  plan: Plan,
  run: RunState,
  step: Step,
  attempt: number,
  key: string,
  rediscover?: string,
): void {
  const pod = discoveryPodName(podName(plan.input.pipeline.metadata.name, run.key, step.name, attempt));
  plan.emit(
    'CatalogDiscoveryScheduled',
    { runId: run.id, step: step.name, attempt, pod, catalogKey: key, ...(rediscover && { rediscover }) },
    run.id,
    step.name,
    attempt,
  );
  plan.act({
    kind: 'createPod',
    runId: run.id,
    runKey: run.key,
    step: step.name,
    attempt,
    pod,
    discover: true,
  });
}

/**
 * Schedules attempt `attempt` of `step`: its sync Pod, or first its discovery Pod. Returns
 * without a decision while a catalog it needs has not been read yet (the reconciler reads it
 * and plans again).
 */
export function scheduleAttempt(plan: Plan, run: RunState, step: Step, attempt: number): void {
  const need = needOf(plan, step);
  switch (need.kind) {
    case 'none':
      return scheduleSync(plan, run, step, attempt);
    case 'problem':
      return failBeforePod(plan, run, step, attempt, need.reason, need.message);
    case 'configMap': {
      const fetched = plan.catalog({ kind: 'configMap', name: need.ref.name, key: need.ref.key });
      if (fetched === undefined) return;
      if (fetched !== null && 'missing' in fetched)
        return failBeforePod(plan, run, step, attempt, 'CatalogNotFound', fetched.missing);
      if (fetched === null || !('text' in fetched)) return;
      return scheduleWithCatalog(plan, run, step, attempt, fetched.text, need);
    }
    case 'discover': {
      const rediscover = rediscoverRequest(plan, step);
      if (rediscover === undefined) {
        const cached = plan.catalog({ kind: 'cached', key: need.key });
        if (cached === undefined) return;
        if (cached !== null && 'text' in cached)
          return scheduleWithCatalog(plan, run, step, attempt, cached.text, need);
      }
      return scheduleDiscovery(plan, run, step, attempt, need.key, rediscover);
    }
  }
}
