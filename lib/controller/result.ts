import { describeValue } from '../util/options.js';
import type { Result } from './types.js';

/**
 * A reconciler returned something that is not a `Result` (possible from plain JavaScript or
 * through a cast): a bug in the reconciler. The controller counts and logs it as an error and
 * retries the request with backoff, rather than act on it: a string `requeueAfterMs` would be
 * concatenated to the clock's reading, a NaN priority would disorder the queue.
 */
export class InvalidResultError extends Error {
  readonly code = 'ERR_INVALID_RESULT';
  constructor(why: string) {
    super(`reconciler returned an invalid result: ${why}`);
    this.name = 'InvalidResultError';
  }
}

/**
 * `value` as a `Result` (`undefined` and `null` mean `{}`), or an `InvalidResultError` naming
 * the first field of the wrong type. Numbers are not judged further: a delay of zero, below
 * zero or NaN means no delay, as in controller-runtime, and Infinity means never.
 */
export function checkResult(value: unknown): Result {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object') throw new InvalidResultError(`not a Result: ${describeValue(value)}`);
  const { requeueAfterMs, requeue, priority } = value as Record<keyof Result, unknown>;
  if (requeueAfterMs !== undefined && typeof requeueAfterMs !== 'number')
    throw new InvalidResultError(`requeueAfterMs must be a number, got ${describeValue(requeueAfterMs)}`);
  if (requeue !== undefined && typeof requeue !== 'boolean')
    throw new InvalidResultError(`requeue must be a boolean, got ${describeValue(requeue)}`);
  if (priority !== undefined && (typeof priority !== 'number' || Number.isNaN(priority)))
    throw new InvalidResultError(`priority must be a number, got ${describeValue(priority)}`);
  return value as Result;
}
