/** Keyset pages over a sorted in-memory list (pipelines and plugins come from the informer caches). */
import {
  LabelSelectorError,
  matchesLabels,
  parseLabelSelector,
  type Requirement,
} from '../../kube/label-selector.js';
import { decodePageToken, encodePageToken } from '../page-token.js';
import { badRequest } from '../problem.js';

/** The parsed `labelSelector` query parameter; 400 naming it when it does not parse. */
export function selectorParam(selector: string | undefined): Requirement[] {
  try {
    return parseLabelSelector(selector ?? '');
  } catch (err) {
    if (!(err instanceof LabelSelectorError)) throw err;
    throw badRequest([{ in: 'query', name: 'labelSelector', reason: err.message }]);
  }
}

interface Named {
  readonly metadata: {
    readonly namespace: string;
    readonly name: string;
    readonly labels?: Record<string, string>;
  };
}

/**
 * Objects of `namespace` (all when unset) that match the selector, ordered by namespace and
 * name, one page after the token's position.
 */
export function pageOf<T extends Named>(
  all: readonly T[],
  query: { labelSelector?: string; limit: number; pageToken?: string },
  namespace?: string,
): { items: T[]; nextPageToken?: string } {
  const selector = selectorParam(query.labelSelector);
  const filters = { ...query, namespace };
  const after = query.pageToken ? decodePageToken(query.pageToken, filters, 2) : undefined;
  const key = (o: T): string => `${o.metadata.namespace}\u0000${o.metadata.name}`;
  const afterKey = after && `${after[0]}\u0000${after[1]}`;
  const matching = all
    .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
    .filter((o) => matchesLabels(selector, o.metadata.labels))
    .filter((o) => afterKey === undefined || key(o) > afterKey)
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const items = matching.slice(0, query.limit);
  const last = items[items.length - 1];
  return {
    items,
    ...(matching.length > query.limit &&
      last && { nextPageToken: encodePageToken([last.metadata.namespace, last.metadata.name], filters) }),
  };
}
