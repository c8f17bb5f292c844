/** Who is calling the status API, and what a request needs to be allowed to do. */

/** The caller as the apiserver's TokenReview names it: SubjectAccessReviews ask as this user. */
export interface Caller {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

/** A Kubernetes permission in group flexcore.io (`kubectl auth can-i <verb> <resource>[/<sub>] -n <ns>`). */
export interface Access {
  readonly verb: 'get' | 'list' | 'watch' | 'create' | 'patch';
  readonly resource: 'flexpipelines' | 'flexplugins';
  readonly subresource?: 'log' | 'events';
  /** Unset: across all namespaces (cluster scope). */
  readonly namespace?: string;
  readonly name?: string;
}

/** `get flexpipelines/log -n team-a`: how a 403 names what was denied. */
export function describeAccess(a: Access): string {
  const what = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace === undefined ? ' at the cluster scope' : ` in namespace "${a.namespace}"`;
  return `${a.verb} ${what}.flexcore.io${a.name ? ` "${a.name}"` : ''}${where}`;
}

/** How the API decides who may do what. */
export interface ApiAuth {
  readonly mode: 'kubernetes' | 'none';
  /** The caller of a request, from its Authorization header. Throws ApiProblem 401 (or 503). */
  authenticate(authorization: string | undefined): Promise<Caller>;
  /** Whether `caller` may do `access`. Throws ApiProblem 503 when the apiserver cannot say. */
  allowed(caller: Caller, access: Access): Promise<boolean>;
}
