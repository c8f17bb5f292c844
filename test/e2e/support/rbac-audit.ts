/**
 * RBAC proven, not guessed: what a service account was granted (the chart's rendered Roles and
 * bindings) set against what it did (the apiserver's audit log). Every grant should have been
 * used, and no request denied.
 */

/** One permission: a verb on a resource (with subresource) of a group, in a namespace or cluster-wide ('*'). */
export interface Grant {
  readonly namespace: string;
  readonly group: string;
  readonly resource: string;
  readonly verb: string;
}

/** One request of the service account, from the audit log. */
export interface AuditRecord extends Grant {
  readonly code: number;
  readonly name?: string;
}

interface KubeObject {
  readonly kind?: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly rules?: readonly {
    apiGroups?: string[];
    resources?: string[];
    verbs?: string[];
    resourceNames?: string[];
  }[];
  readonly roleRef?: { readonly kind: string; readonly name: string };
  readonly subjects?: readonly { kind: string; name: string; namespace?: string }[];
}

/** `group/resource[/subresource]`, the way RBAC rules and this report name a resource. */
export const grantKey = (g: Grant): string =>
  `${g.verb} ${g.group === '' ? 'core' : g.group}/${g.resource} in ${g.namespace}`;

/** The audit events of `username` that reached a decision, as records (a watch may appear twice). */
export function auditRecords(log: string, username: string): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (const line of log.split('\n')) {
    if (line.trim() === '') continue;
    const e = JSON.parse(line) as {
      stage?: string;
      user?: { username?: string };
      verb?: string;
      objectRef?: {
        apiGroup?: string;
        resource?: string;
        subresource?: string;
        namespace?: string;
        name?: string;
      };
      responseStatus?: { code?: number };
    };
    // A watch completes only when it ends: while it lasts, its ResponseStarted event shows it was allowed.
    const done = e.stage === 'ResponseComplete' || (e.stage === 'ResponseStarted' && e.verb === 'watch');
    if (!done || e.user?.username !== username || !e.objectRef?.resource) continue;
    const ref = e.objectRef;
    const record = {
      namespace: ref.namespace ?? '*',
      group: ref.apiGroup ?? '',
      resource: ref.subresource ? `${ref.resource}/${ref.subresource}` : ref.resource!,
      verb: e.verb ?? '',
      code: e.responseStatus?.code ?? 0,
      ...(ref.name && { name: ref.name }),
    };
    out.push(record);
    // A server-side apply that creates is a patch answered 201: it needed `create` too.
    if (record.verb === 'patch' && record.code === 201) out.push({ ...record, verb: 'create' });
  }
  return out;
}

/**
 * The grants the service account `namespace/name` holds through the given Roles, ClusterRoles
 * and bindings. A ClusterRole bound by a RoleBinding grants in that namespace only.
 */
export function grantsOf(objects: readonly KubeObject[], sa: { namespace: string; name: string }): Grant[] {
  const roles = new Map<string, KubeObject>();
  for (const o of objects) {
    if (o.kind === 'Role') roles.set(`Role/${o.metadata?.namespace}/${o.metadata?.name}`, o);
    if (o.kind === 'ClusterRole') roles.set(`ClusterRole//${o.metadata?.name}`, o);
  }
  const grants = new Map<string, Grant>();
  for (const b of objects) {
    if (b.kind !== 'RoleBinding' && b.kind !== 'ClusterRoleBinding') continue;
    const bound = b.subjects?.some(
      (s) => s.kind === 'ServiceAccount' && s.name === sa.name && s.namespace === sa.namespace,
    );
    if (!bound || !b.roleRef) continue;
    const scope = b.kind === 'RoleBinding' ? (b.metadata?.namespace ?? '') : '*';
    const roleNs = b.roleRef.kind === 'Role' ? (b.metadata?.namespace ?? '') : '';
    const role = roles.get(`${b.roleRef.kind}/${roleNs}/${b.roleRef.name}`);
    if (!role)
      throw new Error(
        `${b.kind} ${b.metadata?.name} refers to ${b.roleRef.kind} ${b.roleRef.name}, not rendered`,
      );
    for (const g of roleGrants(role, scope)) grants.set(grantKey(g), g);
  }
  return [...grants.values()];
}

/** The grants of one role's rules, scoped to `namespace` ('*': cluster-wide). */
function roleGrants(role: KubeObject, namespace: string): Grant[] {
  return (role.rules ?? []).flatMap((rule) => {
    if (rule.resourceNames?.length) throw new Error('rules with resourceNames are not compared here');
    return (rule.apiGroups ?? []).flatMap((group) =>
      (rule.resources ?? []).flatMap((resource) =>
        (rule.verbs ?? []).map((verb) => {
          if ([group, resource, verb].includes('*'))
            throw new Error(`wildcard grant in ${role.metadata?.name}`);
          return { namespace, group, resource, verb };
        }),
      ),
    );
  });
}

/** Whether `grant` covers `request`: same verb and resource, in its namespace or cluster-wide. */
const covers = (grant: Grant, request: Grant): boolean =>
  grant.verb === request.verb &&
  grant.group === request.group &&
  grant.resource === request.resource &&
  (grant.namespace === '*' || grant.namespace === request.namespace);

export interface RbacComparison {
  /** Granted but never used. */
  readonly unused: Grant[];
  /** Requests the apiserver refused with 403. */
  readonly denied: AuditRecord[];
  /** Requests made that no grant covers (each also a denial, unless another path allowed it). */
  readonly uncovered: AuditRecord[];
}

export function compareRbac(grants: readonly Grant[], records: readonly AuditRecord[]): RbacComparison {
  const unused = grants.filter((g) => !records.some((r) => r.code !== 403 && covers(g, r)));
  const denied = records.filter((r) => r.code === 403);
  const uncovered = records.filter((r) => !grants.some((g) => covers(g, r)));
  return { unused, denied, uncovered: dedupe(uncovered) };
}

function dedupe(records: readonly AuditRecord[]): AuditRecord[] {
  const seen = new Map<string, AuditRecord>();
  for (const r of records) if (!seen.has(grantKey(r))) seen.set(grantKey(r), r);
  return [...seen.values()];
}
