/** `--api-auth=none`: every request is allowed. For a controller on a developer's machine only. */
import type { ApiAuth, Caller } from './access.js';

const ANONYMOUS: Caller = { username: 'system:anonymous', groups: ['system:unauthenticated'], extra: {} };

export const noAuth: ApiAuth = {
  mode: 'none',
  authenticate: () => Promise.resolve(ANONYMOUS),
  allowed: () => Promise.resolve(true),
};
