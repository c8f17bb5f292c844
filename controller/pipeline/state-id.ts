/** Where a Singer step's state is kept between runs. */
import type { Step } from '../../api/v1alpha1/flexpipeline.js';

/**
 * `<namespace>/<stateId>`, by default `<namespace>/<pipeline>/<step>`. A step's own stateId is
 * relative to its namespace, so pipelines share state only within one: no namespace can read
 * or overwrite another's bookmarks by naming them. The id is by name, so a pipeline deleted
 * and created again under the same name resumes from the state it left.
 */
export function stateIdOf(pipeline: { metadata: { namespace?: string; name?: string } }, step: Step): string {
  const namespace = pipeline.metadata.namespace ?? '';
  return `${namespace}/${step.stateId ?? `${pipeline.metadata.name ?? ''}/${step.name}`}`;
}
