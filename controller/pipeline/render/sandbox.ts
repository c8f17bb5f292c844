/**
 * The sandbox every step runs in, compliant with Pod Security "restricted" (docs/sandbox.md):
 * non-root, no privilege escalation, no capabilities, seccomp RuntimeDefault, read-only root.
 */
import type { V1PodSecurityContext, V1SecurityContext } from '@kubernetes/client-node';
import type { FlexPlugin } from '../../../api/v1alpha1/index.js';
import { RESERVED_DIR, SCRATCH_DIR } from './layout.js';

/** The uid (and gid) plugins run as unless their sandbox says otherwise: distroless "nonroot". */
export const DEFAULT_RUN_AS_USER = 65532;

/** The uid the plugin runs as. */
export function runAsUserOf(plugin: FlexPlugin): number {
  return plugin.spec.sandbox?.runAsUser ?? DEFAULT_RUN_AS_USER;
}

/**
 * Pod-wide settings. fsGroup makes the kubelet give the Secret and emptyDir volumes to that
 * group, which is what lets a non-root user read the root-owned config files.
 */
export function podSecurityContext(uid: number): V1PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Per-container settings; the uid is repeated so each side of a pair runs as its own plugin says. */
export function containerSecurityContext(uid: number): V1SecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  };
}

function isReserved(path: string): boolean {
  return path === '/' || path === SCRATCH_DIR || path === RESERVED_DIR || path.startsWith(`${RESERVED_DIR}/`);
}

/**
 * The plugin's extra writable directories, normalised (no trailing slash) and deduplicated.
 * `/` , `/tmp` (always writable) and `/flexcore/...` (FlexCore's own mounts) are left out.
 */
export function writablePathsOf(plugin: FlexPlugin): string[] {
  const paths = (plugin.spec.sandbox?.writablePaths ?? []).map((p) => p.replace(/\/+$/, '') || '/');
  return [...new Set(paths)].filter((p) => !isReserved(p));
}
