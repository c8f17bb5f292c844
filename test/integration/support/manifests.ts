/** Small builders of FlexPlugin and FlexPipeline manifests for engine tests. */
import { KWOK_ANNOTATIONS } from '../../../hack/plane/control-plane.js';

export function plugin(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPlugin',
    metadata: { name },
    spec: { type: 'utility', image: `example.com/${name}:1`, command: [name], ...spec },
  };
}

export function pipeline(
  name: string,
  spec: Record<string, unknown>,
  annotations?: Record<string, string>,
): Record<string, unknown> {
  return {
    apiVersion: 'flexcore.io/v1alpha1',
    kind: 'FlexPipeline',
    metadata: { name, ...(annotations && { annotations }) },
    spec,
  };
}

/** podMetadata that makes the fake kwok container run `duration` and exit with `exitCode`. */
export function fake(exitCode = 0, duration = '0s'): Record<string, unknown> {
  return {
    annotations: { [KWOK_ANNOTATIONS.exitCode]: String(exitCode), [KWOK_ANNOTATIONS.duration]: duration },
  };
}
