/**
 * An attempt in its discovery Pod (pure): when the tap's --discover has finished, its catalog
 * is read from the log, recorded (CatalogDiscovered, the body stored by digest) and the same
 * attempt goes on in its sync Pod. A discovery that fails fails the attempt, with a reason that
 * says how: the tap's exit (DiscoveryFailed), CatalogTooLarge, CatalogMissing, CatalogInvalid.
 */
import type { Step } from '../../api/v1alpha1/index.js';
import { readDiscoveryOutput } from '../catalog/discovery-output.js';
import { boundLogTail } from '../store/event-types.js';
import { finishAttempt, podFinish, syncAttempt } from './attempts.js';
import type { AttemptState, RunState } from './history.js';
import type { ObservedPod } from './observed-pod.js';
import type { Plan } from './plan.js';
import { CONTAINERS } from './render/layout.js';
import { CATALOG_TOO_LARGE_EXIT_CODE, DISCOVERY_CATALOG_LIMIT } from './render/discovery-wrapper.js';
import { needOf, pluginOf, scheduleWithCatalog } from './schedule-attempt.js';

function ref(run: RunState, step: Step, a: AttemptState): Record<string, unknown> {
  return { runId: run.id, step: step.name, attempt: a.attempt };
}

function discoveryFailed(plan: Plan, run: RunState, step: Step, a: AttemptState, pod: ObservedPod): void {
  const finish = podFinish(pod);
  if (finish.phase !== 'Failed') return void finishAttempt(plan, run, step, a, finish);
  const tooLarge = finish.exitCode === CATALOG_TOO_LARGE_EXIT_CODE;
  finishAttempt(plan, run, step, a, {
    ...finish,
    reason: tooLarge ? 'CatalogTooLarge' : `DiscoveryFailed`,
    message: tooLarge
      ? `the tap's catalog is over FlexCore's limit of ${DISCOVERY_CATALOG_LIMIT} bytes (see the discover log): select fewer schemas in the tap's config`
      : `the tap's --discover ${finish.exitCode !== undefined ? `exited ${finish.exitCode}` : `failed (${finish.reason})`}; see the discover log`,
  });
}

function discoverySucceeded(plan: Plan, run: RunState, step: Step, a: AttemptState, pod: ObservedPod): void {
  const logs = plan.logs(pod.name);
  if (!logs) return;
  const out = readDiscoveryOutput(logs[CONTAINERS.discover] ?? '', pod.name);
  if (!out.ok) {
    finishAttempt(plan, run, step, a, {
      phase: 'Failed',
      reason: out.reason,
      message: out.message,
      exitCode: 0,
    });
    return;
  }
  const bytes = Buffer.byteLength(out.text);
  const streams = out.catalog.streams.length;
  const log = `${out.log}[flexcore: the tap discovered ${streams} stream(s), a catalog of ${bytes} bytes]\n`;
  const { tail, truncated } = boundLogTail(log);
  const container = CONTAINERS.discover;
  plan.emit(
    'LogTailCaptured',
    { ...ref(run, step, a), container, tail, truncated },
    run.id,
    step.name,
    a.attempt,
    container,
  );
  const need = needOf(plan, step);
  const key = a.catalogKey ?? '';
  plan.emit(
    'CatalogDiscovered',
    {
      ...ref(run, step, a),
      catalogKey: key,
      digest: out.digest,
      bytes,
      streams,
      plugin: step.plugin,
      image: pluginOf(plan, step)?.spec.image ?? 'unknown',
    },
    run.id,
    step.name,
    a.attempt,
  );
  plan.learnCatalog(key, { digest: out.digest, text: out.text, discoveredAt: plan.now });
  plan.act({ kind: 'deleteSecret', name: pod.name });
  if (need.kind !== 'discover') {
    // The plugin changed under the run: its new need decides at the next attempt.
    finishAttempt(plan, run, step, a, { phase: 'Failed', reason: 'PluginChanged' });
    return;
  }
  scheduleWithCatalog(plan, run, step, a.attempt, out.text, need);
}

/** Brings an attempt in its discovery Pod up to date. */
export function syncDiscovery(plan: Plan, run: RunState, step: Step, a: AttemptState): void {
  const pod = plan.pod(a.pod);
  if (pod?.outcome === 'Succeeded') return discoverySucceeded(plan, run, step, a, pod);
  if (pod?.outcome === 'Failed') return discoveryFailed(plan, run, step, a, pod);
  syncAttempt(plan, run, step, a);
}
