/**
 * What a request to the Kubernetes API is, in RBAC's words (pure): its verb and its resource
 * (`pods`, `pods/log`, `flexpipelines/status`). The request counter is labelled with these, so
 * "requests per run by verb and resource" is a metric, not a guess.
 */

export interface RequestKind {
  readonly verb: string;
  /** `resource` or `resource/subresource`; `other` for a path that names no resource. */
  readonly resource: string;
}

/** Path segments after the group version: `namespaces/ns/pods/name/log` → pods, name, log. */
function resourceParts(segments: readonly string[]): { resource?: string; name?: string; sub?: string } {
  let rest = segments;
  // A namespace's own path (`namespaces/ns`) is the namespaces resource; deeper ones are scoped.
  if (rest[0] === 'namespaces' && rest.length > 2) rest = rest.slice(2);
  const [resource, name, sub] = rest;
  return { resource, name, sub };
}

/** The segments after `/api/v1` or `/apis/<group>/<version>`. */
function afterGroupVersion(path: string): string[] | undefined {
  const segments = path.split('?')[0]!.split('/').filter(Boolean);
  if (segments[0] === 'api') return segments.slice(2);
  if (segments[0] === 'apis') return segments.slice(3);
  return undefined;
}

/** Verb and resource of a request, as the apiserver's authorizer would name them. */
export function requestKind(method: string, path: string, contentType?: string): RequestKind {
  const segments = afterGroupVersion(path);
  const { resource, name, sub } = segments ? resourceParts(segments) : {};
  const target = resource === undefined ? 'other' : sub ? `${resource}/${sub}` : resource;
  const watch = /[?&]watch=(1|true)(&|$)/.test(path);
  switch (method) {
    case 'GET':
      return {
        verb: watch ? 'watch' : resource !== undefined && name === undefined ? 'list' : 'get',
        resource: target,
      };
    case 'POST':
      return { verb: 'create', resource: target };
    case 'PUT':
      return { verb: 'update', resource: target };
    case 'PATCH':
      // Server-side apply is a patch to the apiserver; named apart so it can be counted apart.
      return { verb: contentType === 'application/apply-patch+yaml' ? 'apply' : 'patch', resource: target };
    case 'DELETE':
      return { verb: name === undefined ? 'deletecollection' : 'delete', resource: target };
    default:
      return { verb: method.toLowerCase(), resource: target };
  }
}
