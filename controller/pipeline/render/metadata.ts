/** Labels, annotations and the owner reference of everything rendered for a pipeline. */
import type { V1OwnerReference } from '@kubernetes/client-node';
import type { FlexPipeline, FlexPlugin, PodMetadata } from '../../../api/v1alpha1/index.js';
import { API_VERSION, PIPELINE_KIND } from '../../../api/v1alpha1/index.js';
import { TerminalError } from '../../reconcile/errors.js';
import { LABELS, MANAGED_BY } from '../labels.js';
import type { AttemptInput } from './attempt-input.js';

/** Prefix of the label and annotation keys FlexCore owns; users cannot set them. */
export const RESERVED_PREFIX = 'flexcore.io/';

/** The name of a resource; rendering without one is a bug in the caller. */
export function nameOf(object: FlexPipeline | FlexPlugin): string {
  const name = object.metadata.name;
  if (name === undefined) throw new TerminalError(`a ${object.kind} without a name`, 'RenderFailed');
  return name;
}

/** The uid of the pipeline, which owner references and the pipeline-uid label need. */
export function pipelineUid(pipeline: FlexPipeline): string {
  const uid = pipeline.metadata.uid;
  if (typeof uid !== 'string' || uid === '')
    throw new TerminalError(`FlexPipeline ${nameOf(pipeline)} has no uid`, 'RenderFailed');
  return uid;
}

/** The namespace of the pipeline, when the object carries one. */
export function namespaceOf(pipeline: FlexPipeline): string | undefined {
  return pipeline.metadata.namespace;
}

/** The pipeline as the controlling owner: deleting it deletes what FlexCore made for it. */
export function ownerReference(pipeline: FlexPipeline): V1OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: PIPELINE_KIND,
    name: nameOf(pipeline),
    uid: pipelineUid(pipeline),
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Labels every object of the pipeline carries; selectors use them. */
export function pipelineLabels(pipeline: FlexPipeline): Record<string, string> {
  return {
    [MANAGED_BY.key]: MANAGED_BY.value,
    [LABELS.pipeline]: nameOf(pipeline),
    [LABELS.pipelineUid]: pipelineUid(pipeline),
  };
}

/** Labels of the objects of one attempt (Pod and Secret). */
export function attemptLabels(input: AttemptInput): Record<string, string> {
  return {
    ...pipelineLabels(input.pipeline),
    [LABELS.run]: input.runKey,
    [LABELS.step]: input.step.name,
    [LABELS.attempt]: String(input.attempt),
    [LABELS.plugin]: nameOf(input.plugin),
  };
}

function withoutReserved(map: Readonly<Record<string, string>> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(map ?? {}).filter(([k]) => !k.startsWith(RESERVED_PREFIX)));
}

/**
 * Pod metadata layers merged in order (later wins), without reserved keys: plugin, target
 * plugin, pipeline, step.
 */
export function mergePodMetadata(layers: readonly (PodMetadata | undefined)[]): {
  labels: Record<string, string>;
  annotations: Record<string, string>;
} {
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  for (const layer of layers) {
    Object.assign(labels, withoutReserved(layer?.labels));
    Object.assign(annotations, withoutReserved(layer?.annotations));
  }
  return { labels, annotations };
}
