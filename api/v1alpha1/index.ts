/** The FlexCore resource types, version v1alpha1: the single source of truth for CRDs and code. */
export * from './catalog.js';
export * from './common.js';
export * from './flexplugin.js';
export * from './flexpipeline.js';
export * from './graph.js';
export * from './schedule.js';
export * from './scheduling.js';
export * from './volumes.js';
export * from './validate.js';
