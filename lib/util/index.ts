// Small helpers every controller needs: time (and timing-option checks), status conditions, finalizers, owner references.
export * from './clock.js';
export * from './timing.js';
export * from './conditions.js';
export * from './finalizers.js';
export * from './owner-references.js';
