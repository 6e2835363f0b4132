export * from './types.js';
export { Controller, type ControllerOptions } from './controller.js';
export { InvalidResultError } from './result.js';
export type { ReconcileOutcome } from './metrics.js';
export type { ObjectEvent } from './events.js';
export * from './predicates.js';
export * from './handlers.js';
