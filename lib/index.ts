// Everything a user of the framework needs, in one import.
export * from './util/index.js';
export * from './workqueue/index.js';
export * from './client/index.js';
export * from './cache/index.js';
export * from './log/index.js';
export * from './controller/index.js';
export * from './leaderelection/index.js';
export * from './events/index.js';
export * from './manager/index.js';
