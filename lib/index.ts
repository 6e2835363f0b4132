// Everything a user of the framework needs, in one import.
export * from './util/clock.js';
