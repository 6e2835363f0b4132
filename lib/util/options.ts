import { inspect } from 'node:util';

/**
 * Validation of numeric options (timing knobs above all) at construction: a bad value fails at
 * once with a `RangeError` that names the option, rather than as a hot loop, a timer that never
 * fires or NaN arithmetic much later.
 */

export interface NumberRule {
  /** Lowest allowed value. Default 0. */
  min?: number;
  /** Whether `min` itself is excluded (`> min` rather than `>= min`). Default false. */
  exclusive?: boolean;
  /** Highest allowed value. Default none. */
  max?: number;
  /** Whether Infinity is allowed (where it means "never" or "no limit"). Default false. */
  infinite?: boolean;
  /** Whether the value must be a whole number. Default false. */
  integer?: boolean;
}

/**
 * Returns `value` if it is a number that satisfies `rule`, else throws a `RangeError` such as
 * `Reflector: watchIdleTimeoutMs must be a finite number > 0, got -1`. `undefined` passes (the
 * caller's default applies); NaN never does.
 */
export function checkNumber<V extends number | undefined>(
  owner: string,
  option: string,
  value: V,
  rule: NumberRule = {},
): V {
  if (value === undefined) return value;
  const { min = 0, exclusive = false, max, infinite = false, integer = false } = rule;
  const ok =
    typeof value === 'number' &&
    !Number.isNaN(value) &&
    (exclusive ? value > min : value >= min) &&
    (max === undefined || value <= max) &&
    (infinite || Number.isFinite(value)) &&
    (!integer || Number.isInteger(value) || (infinite && value === Infinity));
  if (ok) return value;
  const kind = integer ? 'an integer' : infinite ? 'a number' : 'a finite number';
  const range = `${exclusive ? '>' : '>='} ${min}${max === undefined ? '' : ` and <= ${max}`}`;
  throw new RangeError(`${owner}: ${option} must be ${kind} ${range}, got ${describeValue(value)}`);
}

/**
 * A value as an error message shows it: numbers as written, strings quoted, BigInts with their
 * `n`, anything else as `util.inspect` shows it (`JSON.stringify` would throw on a BigInt).
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  return inspect(value, { depth: 1, breakLength: Infinity });
}
