/** Labels and annotations FlexCore puts on what it creates, and reads back. */

/** Every object the controller creates carries this label; the Pod informer selects on it. */
export const MANAGED_BY = { key: 'app.kubernetes.io/managed-by', value: 'flexcore' } as const;

export const LABELS = {
  pipeline: 'flexcore.io/pipeline',
  pipelineUid: 'flexcore.io/pipeline-uid',
  run: 'flexcore.io/run',
  step: 'flexcore.io/step',
  attempt: 'flexcore.io/attempt',
  plugin: 'flexcore.io/plugin',
  /** On a FlexPipeline created by the API's execute command: a one-off run, deleted after a TTL. */
  adHoc: 'flexcore.io/ad-hoc',
} as const;

export const ANNOTATIONS = {
  /** Set by users (or the API): a new value starts a manual run. */
  runRequested: 'flexcore.io/run-requested',
  /** Set by users: a value equal to an active run's id (or key) cancels that run; other values do nothing. */
  cancelRun: 'flexcore.io/cancel-run',
  /** Set by users: runs started while it is present ignore the stored Singer state of the named steps (comma list, or "*"). */
  fullRefresh: 'flexcore.io/full-refresh',
  /**
   * Set together with runRequested (the API's run command does): steps whose stored Singer state
   * the manual run of that request ignores. It applies to that run only; a later request sets it again or not.
   */
  runFullRefresh: 'flexcore.io/run-full-refresh',
  /** On an ad hoc pipeline: seconds after its run finished until the controller deletes it (3600). */
  ttlAfterFinished: 'flexcore.io/ttl-seconds-after-finished',
  /**
   * Set by users: a new value makes each tap step discover its catalog again at its next
   * attempt instead of using the cached one (the value is recorded with the discovery).
   */
  rediscover: 'flexcore.io/rediscover',
  /** Set by the API's commands: the user who asked (for people reading the object, not for the engine). */
  requestedBy: 'flexcore.io/requested-by',
} as const;

/** The finalizer that lets the controller stop a deleted pipeline's Pods and record it first. */
export const FINALIZER = 'flexcore.io/stop-runs';

/** The selector of every Pod the controller owns. */
export const MANAGED_SELECTOR = `${MANAGED_BY.key}=${MANAGED_BY.value}`;
