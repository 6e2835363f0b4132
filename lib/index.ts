/**
 * The framework: everything a controller needs at run time, in one import (`steward`). The test
 * harness is a separate import, `steward/testing`.
 *
 * @module steward
 */
export * from './util/index.js';
export * from './workqueue/index.js';
export * from './client/index.js';
export * from './cache/index.js';
export * from './log/index.js';
export * from './controller/index.js';
export * from './leaderelection/index.js';
export * from './events/index.js';
export * from './manager/index.js';
