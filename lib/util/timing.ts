/**
 * Validation of timing options, shared by every constructor that takes one, so a bad knob fails
 * where it is set (a `RangeError` naming the option) rather than as a timer that fires at once
 * or never.
 */

/**
 * The longest delay Node's `setTimeout` honours: 2^31−1 ms (≈ 24.8 days). A longer one fires
 * after 1 ms with a `TimeoutOverflowWarning`, so an option that becomes a single timer must not
 * exceed it.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface DurationRule {
  /** Allow 0 (usually "disabled" or "at once"). Default false: the value must be > 0. */
  allowZero?: boolean;
  /** Largest accepted value. Default `MAX_TIMER_MS`; `Infinity` where no single timer uses it. */
  max?: number;
}

/**
 * Returns `value` if it is a usable duration in milliseconds, else throws a `RangeError` that
 * names `option`: NaN, ±Infinity, a negative number, 0 (unless allowed) and anything above
 * `max` are refused. `undefined` returns `fallback` unchecked (defaults are known good).
 */
export function durationOption(
  option: string,
  value: number | undefined,
  fallback: number,
  rule: DurationRule = {},
): number {
  if (value === undefined) return fallback;
  const max = rule.max ?? MAX_TIMER_MS;
  const min = rule.allowZero ? '>= 0' : '> 0';
  const ok =
    typeof value === 'number' &&
    !Number.isNaN(value) &&
    (rule.allowZero ? value >= 0 : value > 0) &&
    value <= max;
  if (!ok) {
    const bound = Number.isFinite(max) ? ` and <= ${max}` : '';
    throw new RangeError(`${option} must be a number of milliseconds ${min}${bound}, got ${String(value)}`);
  }
  return value;
}
