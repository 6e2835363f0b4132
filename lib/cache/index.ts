// The cache: reflectors, indexed stores, shared informers and a cache-backed reader.
export * from './handlers.js';
export * from './store.js';
export * from './indexers.js';
export * from './transform.js';
export * from './backoff.js';
export * from './reflector.js';
export * from './informer.js';
export * from './informer-cache.js';
export * from './errors.js';
export { InformerMetrics } from './metrics.js';
