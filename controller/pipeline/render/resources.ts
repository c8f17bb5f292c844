/**
 * Requests and limits of a step container: always both, merged field by field from FlexCore's
 * defaults, the plugin's defaults and the step's overrides.
 */
import type { ResourceRequirements } from '../../../api/v1alpha1/index.js';
import { parseQuantity } from './quantity.js';

export const RESOURCE_NAMES = ['cpu', 'memory', 'ephemeral-storage'] as const;
export type ResourceName = (typeof RESOURCE_NAMES)[number];

/** Concrete requests and limits, as the Pod spec takes them. */
export interface Resources {
  readonly requests: Record<ResourceName, string>;
  readonly limits: Record<ResourceName, string>;
}

/**
 * FlexCore's defaults: enough for a small Singer tap or a script, small enough that a
 * forgotten override does not starve a node. Documented in docs/sandbox.md.
 */
export const DEFAULT_RESOURCES: Resources = {
  requests: { cpu: '100m', memory: '128Mi', 'ephemeral-storage': '256Mi' },
  limits: { cpu: '1', memory: '512Mi', 'ephemeral-storage': '1Gi' },
};

type Kind = 'requests' | 'limits';

/** One field of one layer; the schema types resource lists loosely, so read them defensively. */
function fieldOf(
  layer: ResourceRequirements | undefined,
  kind: Kind,
  name: ResourceName,
): string | undefined {
  const list: unknown = layer?.[kind];
  if (typeof list !== 'object' || list === null) return undefined;
  const value: unknown = (list as Record<string, unknown>)[name];
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' ? value : undefined;
}

/** The value of the most specific layer that sets the field, and that layer's index (-1: default). */
function resolve(
  layers: readonly (ResourceRequirements | undefined)[],
  kind: Kind,
  name: ResourceName,
): { value: string; layer: number } {
  for (let i = layers.length - 1; i >= 0; i--) {
    const value = fieldOf(layers[i], kind, name);
    if (value !== undefined) return { value, layer: i };
  }
  return { value: DEFAULT_RESOURCES[kind][name], layer: -1 };
}

/**
 * Merges layers (least specific first) over the defaults. A request above its limit would be
 * refused by the apiserver, so the value from the more specific layer wins and the other
 * follows it; when one layer set both, the limit is raised to the request.
 */
export function mergeResources(layers: readonly (ResourceRequirements | undefined)[]): Resources {
  const requests = { ...DEFAULT_RESOURCES.requests };
  const limits = { ...DEFAULT_RESOURCES.limits };
  for (const name of RESOURCE_NAMES) {
    const request = resolve(layers, 'requests', name);
    const limit = resolve(layers, 'limits', name);
    requests[name] = request.value;
    limits[name] = limit.value;
    if ((parseQuantity(request.value) ?? 0) <= (parseQuantity(limit.value) ?? Infinity)) continue;
    if (limit.layer > request.layer) requests[name] = limit.value;
    else limits[name] = request.value;
  }
  return { requests, limits };
}
