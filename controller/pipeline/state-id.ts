/** Where a step's Singer state is kept between runs. */
import type { Step } from '../../api/v1alpha1/index.js';

/** The step's own stateId, or `<namespace>/<pipeline>/<step>`. */
export function stateIdOf(pipeline: { metadata: { namespace?: string; name?: string } }, step: Step): string {
  return step.stateId ?? `${pipeline.metadata.namespace ?? ''}/${pipeline.metadata.name ?? ''}/${step.name}`;
}
