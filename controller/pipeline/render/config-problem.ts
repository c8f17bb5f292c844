/** Why an attempt's config cannot be rendered. Messages never carry a setting's value. */

export type ConfigProblemReason =
  /** A configFrom Secret does not exist (or was not given to the renderer). */
  | 'SecretNotFound'
  /** A secretKeyRef names a key the Secret does not have. */
  | 'SecretKeyNotFound'
  /** A required setting has no value after defaults, config and configFrom. */
  | 'RequiredSettingMissing'
  /** A value does not have (or, from a Secret, does not convert to) the setting's kind. */
  | 'SettingKindMismatch'
  /**
   * A secret setting (kind password, or marked secret) is given in plain config, where status
   * and events could show it.
   */
  | 'SecretSettingInPlainConfig'
  /** The tap and target of a Singer pair must be Singer plugins of those types. */
  | 'PairingInvalid'
  /** A paired plugin has no command: the FIFO wrapper replaces the entrypoint and must know what to run. */
  | 'CommandRequired'
  /** A volume's mountPath is also one of the plugin's writablePaths. */
  | 'VolumeConflict';

/** One problem with the config of one plugin of the step. */
export interface ConfigProblem {
  readonly reason: ConfigProblemReason;
  /** For humans; names settings, Secrets and keys, never values. */
  readonly message: string;
  /** Which part of the step: the step's own plugin or its Singer target. */
  readonly part: 'step' | 'target';
  /** The plugin concerned. */
  readonly plugin: string;
  readonly setting?: string;
  /** Name of the Secret concerned (the name only). */
  readonly secret?: string;
}
