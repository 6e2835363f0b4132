import { type Clock, monotonicNow, realClock } from '../util/clock.js';
import { checkNumber } from '../util/options.js';
import { defaultKeyOf, type KeyFunc } from './key.js';

/**
 * Decides how long an item waits before it is retried. The same contract as client-go's
 * `workqueue.RateLimiter`: `when` is called once per retry and counts it; `forget` clears the
 * item's history (call it when the item succeeded); `numRequeues` says how many retries were
 * counted since.
 */
export interface RateLimiter<T> {
  /** Milliseconds to wait before retrying `item`; counts a retry. */
  when(item: T): number;
  /** Clears `item`'s history; unknown items are a no-op. */
  forget(item: T): void;
  /** How many times `when` was asked about `item` since it was last forgotten. */
  numRequeues(item: T): number;
}

/** Options of the per-item limiters. */
export interface ItemLimiterOptions<T> {
  /** Which items share a history. Default `defaultKeyOf`, as the queue's. */
  keyOf?: KeyFunc<T>;
}

/**
 * `baseDelayMs * 2^failures`, capped at `maxDelayMs`: 5, 10, 20, 40 ms … 1000 s with the
 * defaults (client-go's `ItemExponentialFailureRateLimiter`).
 */
export function exponentialFailureRateLimiter<T>(
  baseDelayMs = 5,
  maxDelayMs = 1_000_000,
  opts: ItemLimiterOptions<T> = {},
): RateLimiter<T> {
  checkNumber('exponentialFailureRateLimiter', 'baseDelayMs', baseDelayMs);
  checkNumber('exponentialFailureRateLimiter', 'maxDelayMs', maxDelayMs);
  const keyOf = opts.keyOf ?? (defaultKeyOf as KeyFunc<T>);
  const failures = new Map<string, number>();
  return {
    when(item) {
      const key = keyOf(item);
      const exp = failures.get(key) ?? 0;
      failures.set(key, exp + 1);
      const backoff = baseDelayMs * 2 ** exp;
      return backoff > maxDelayMs || !Number.isFinite(backoff) ? maxDelayMs : backoff;
    },
    forget(item) {
      failures.delete(keyOf(item));
    },
    numRequeues(item) {
      return failures.get(keyOf(item)) ?? 0;
    },
  };
}

/**
 * `fastDelayMs` for the first `maxFastAttempts` retries of an item, `slowDelayMs` after
 * (client-go's `ItemFastSlowRateLimiter`).
 */
export function fastSlowRateLimiter<T>(
  fastDelayMs: number,
  slowDelayMs: number,
  maxFastAttempts: number,
  opts: ItemLimiterOptions<T> = {},
): RateLimiter<T> {
  checkNumber('fastSlowRateLimiter', 'fastDelayMs', fastDelayMs);
  checkNumber('fastSlowRateLimiter', 'slowDelayMs', slowDelayMs);
  checkNumber('fastSlowRateLimiter', 'maxFastAttempts', maxFastAttempts, { integer: true });
  const keyOf = opts.keyOf ?? (defaultKeyOf as KeyFunc<T>);
  const attempts = new Map<string, number>();
  return {
    when(item) {
      const key = keyOf(item);
      const n = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, n);
      return n <= maxFastAttempts ? fastDelayMs : slowDelayMs;
    },
    forget(item) {
      attempts.delete(keyOf(item));
    },
    numRequeues(item) {
      return attempts.get(keyOf(item)) ?? 0;
    },
  };
}

/** Options of `bucketRateLimiter`. */
export interface BucketLimiterOptions {
  clock?: Clock;
}

/**
 * One token bucket for all items: `burst` retries pass at once, then one every `1000 / qps` ms
 * (client-go's `BucketRateLimiter` over `rate.Limiter`; defaults 10 qps, burst 100). Each `when`
 * reserves a token, so a run of calls gets 0 … 0, 100, 200, 300 ms. It keeps no per-item
 * history: `numRequeues` is always 0 and `forget` does nothing.
 */
export function bucketRateLimiter<T>(qps = 10, burst = 100, opts: BucketLimiterOptions = {}): RateLimiter<T> {
  checkNumber('bucketRateLimiter', 'qps', qps, { exclusive: true });
  checkNumber('bucketRateLimiter', 'burst', burst, { min: 1, integer: true });
  const clock = opts.clock ?? realClock;
  let tokens = burst;
  // Refilled by monotonic time: a wall-clock step neither refills the bucket nor stalls it.
  let last = monotonicNow(clock);
  return {
    when() {
      const now = monotonicNow(clock);
      if (now > last) {
        tokens = Math.min(burst, tokens + ((now - last) * qps) / 1000);
        last = now;
      }
      tokens -= 1;
      return tokens >= 0 ? 0 : (-tokens * 1000) / qps;
    },
    forget() {},
    numRequeues() {
      return 0;
    },
  };
}

/** The longest delay of several limiters; each of them counts every retry. */
export function maxOfRateLimiter<T>(...limiters: RateLimiter<T>[]): RateLimiter<T> {
  if (limiters.length === 0) throw new RangeError('maxOfRateLimiter: needs at least one limiter');
  return {
    when(item) {
      let max = 0;
      for (const l of limiters) max = Math.max(max, l.when(item));
      return max;
    },
    forget(item) {
      for (const l of limiters) l.forget(item);
    },
    numRequeues(item) {
      let max = 0;
      for (const l of limiters) max = Math.max(max, l.numRequeues(item));
      return max;
    },
  };
}

/**
 * client-go's default for controllers: per-item exponential backoff (5 ms → 1000 s) and an
 * overall token bucket (10 qps, burst 100), whichever waits longer.
 */
export function defaultControllerRateLimiter<T>(
  opts: BucketLimiterOptions & ItemLimiterOptions<T> = {},
): RateLimiter<T> {
  return maxOfRateLimiter<T>(
    exponentialFailureRateLimiter<T>(5, 1_000_000, opts),
    bucketRateLimiter<T>(10, 100, opts),
  );
}
