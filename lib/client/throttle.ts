import type { Clock, Timer } from '../util/clock.js';
import { monotonicNow, realClock } from '../util/clock.js';
import { checkNumber } from '../util/options.js';

/**
 * The default client-side budget of a client: 100 requests per second sustained, bursts of 150.
 * It is one budget for every request the client makes, whatever the API group (client-go gives
 * each REST client, so each group-version, a budget of its own, 5/10 by default; controller-runtime
 * v0.24 sets none at all and relies on the server's API Priority and Fairness). One budget is one
 * ceiling a runaway controller cannot exceed however many kinds it writes; 100/s is 20 Sessions
 * per second at five requests each, about a fifth of what even a 2-core API server takes in
 * writes. docs/operations.md has the measurements behind it.
 */
export const DEFAULT_QPS = 100;
/** The default burst of the client-side rate limit (see `DEFAULT_QPS`). */
export const DEFAULT_BURST = 150;

/** Options of `TokenBucket`. */
export interface TokenBucketOptions {
  /** Sustained requests per second. Default `DEFAULT_QPS` (100). Zero or negative disables throttling. */
  qps?: number;
  /** Requests allowed at once after a quiet period, >= 1. Default `DEFAULT_BURST` (150). */
  burst?: number;
  clock?: Clock;
}

/**
 * Client-side throttling: a token bucket that refills at `qps` up to `burst`. Callers reserve a
 * token at once and wait out the debt, so waiters are served in arrival order and the bucket
 * never needs a timer of its own (each waiter sets one).
 */
export class TokenBucket {
  readonly qps: number;
  readonly burst: number;
  #clock: Clock;
  // Tokens available at #last (monotonic ms); negative when callers have reserved tokens not
  // yet refilled.
  #tokens: number;
  #last: number;

  constructor(opts: TokenBucketOptions = {}) {
    // Any qps <= 0 (or -Infinity) turns throttling off; only NaN is meaningless.
    if (Number.isNaN(opts.qps)) throw new RangeError('TokenBucket: qps must be a number, got NaN');
    this.qps = opts.qps ?? DEFAULT_QPS;
    this.burst = checkNumber('TokenBucket', 'burst', opts.burst, { min: 1 }) ?? DEFAULT_BURST;
    this.#clock = opts.clock ?? realClock;
    this.#tokens = this.burst;
    this.#last = monotonicNow(this.#clock);
  }

  /** Takes a token; resolves after the wait it implies (immediately when one is free). Returns the wait in ms. */
  acquire(signal?: AbortSignal): Promise<number> {
    if (this.qps <= 0) return Promise.resolve(0);
    signal?.throwIfAborted();
    this.#refill();
    this.#tokens -= 1;
    if (this.#tokens >= 0) return Promise.resolve(0);
    const waitMs = Math.ceil((-this.#tokens / this.qps) * 1000);
    return new Promise<number>((resolve, reject) => {
      let timer: Timer | undefined = undefined;
      const onAbort = (): void => {
        if (timer !== undefined) this.#clock.clearTimeout(timer);
        // Give the reserved token back so an abandoned request does not slow the others.
        this.#tokens += 1;
        reject(signal!.reason);
      };
      timer = this.#clock.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve(waitMs);
      }, waitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Takes a token only if one is free now. */
  tryAcquire(): boolean {
    if (this.qps <= 0) return true;
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #refill(): void {
    const now = monotonicNow(this.#clock);
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed / 1000) * this.qps);
  }
}
