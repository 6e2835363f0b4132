import { checkNumber } from '../util/options.js';
import type { ReconnectBackoffOptions } from './backoff.js';

/** The reflector's numeric tuning (kept here so the check is not part of the public API). */
export interface ReflectorTuningOptions {
  pageSize?: number;
  backoff?: ReconnectBackoffOptions;
  watchIdleTimeoutMs?: number;
  watchTimeoutSeconds?: [min: number, max: number];
  minWatchDurationMs?: number;
}

/**
 * Checks the reflector's tuning (throws a RangeError naming a bad option); also run by the
 * informer and the cache at construction, so that a bad value fails there and not at start.
 */
export function checkReflectorTuning(owner: string, opts: ReflectorTuningOptions, prefix = ''): void {
  checkNumber(owner, `${prefix}pageSize`, opts.pageSize, { min: 1, integer: true });
  checkNumber(owner, `${prefix}watchIdleTimeoutMs`, opts.watchIdleTimeoutMs, { exclusive: true });
  checkNumber(owner, `${prefix}minWatchDurationMs`, opts.minWatchDurationMs);
  if (opts.watchTimeoutSeconds !== undefined) {
    const [min, max] = opts.watchTimeoutSeconds;
    checkNumber(owner, `${prefix}watchTimeoutSeconds[0]`, min, { min: 1 });
    checkNumber(owner, `${prefix}watchTimeoutSeconds[1]`, max, { min: Math.max(1, min) });
  }
  const b = opts.backoff ?? {};
  checkNumber(owner, `${prefix}backoff.initialMs`, b.initialMs);
  checkNumber(owner, `${prefix}backoff.maxMs`, b.maxMs);
  checkNumber(owner, `${prefix}backoff.factor`, b.factor, { min: 1 });
  checkNumber(owner, `${prefix}backoff.jitter`, b.jitter, { max: 1 });
  checkNumber(owner, `${prefix}backoff.resetAfterMs`, b.resetAfterMs);
}
