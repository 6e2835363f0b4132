// Small helpers every controller needs: time, status conditions, finalizers, owner references.
export * from './clock.js';
export * from './conditions.js';
export * from './finalizers.js';
export * from './owner-references.js';
