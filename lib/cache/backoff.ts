import { type Clock, monotonicNow } from '../util/clock.js';
import { checkNumber } from '../util/options.js';

/** Options of `ReconnectBackoff`. */
export interface ReconnectBackoffOptions {
  /** First delay. Default 800 ms (client-go's reflector). */
  initialMs?: number;
  /** Delay cap. Default 30 000 ms. */
  maxMs?: number;
  /** Growth per consecutive failure, >= 1. Default 2. */
  factor?: number;
  /**
   * Fraction by which a delay is randomly shortened, 0–1. Default 0.2: delays fall in
   * [0.8·d, d], so reconnecting clients spread out without ever exceeding the cap.
   */
  jitter?: number;
  /** A failure this long after the previous one starts again from `initialMs`. Default 120 000 ms. */
  resetAfterMs?: number;
}

/**
 * Jittered exponential backoff for reconnecting. "Healthy" is judged by time, not by a success
 * call, as in client-go's backoff manager: when the last failure is older than `resetAfterMs`
 * the connection is considered to have worked in between, and the next delay starts small.
 */
export class ReconnectBackoff {
  #initial: number;
  #max: number;
  #factor: number;
  #jitter: number;
  #resetAfter: number;
  #clock: Clock;
  #random: () => number;
  #attempt = 0;
  // Monotonic: a wall-clock step must not look like two minutes without failures.
  #lastFailureAt: number | undefined;

  constructor(clock: Clock, opts: ReconnectBackoffOptions = {}, random: () => number = Math.random) {
    this.#clock = clock;
    this.#random = random;
    const what = 'ReconnectBackoff';
    this.#initial = checkNumber(what, 'initialMs', opts.initialMs) ?? 800;
    this.#max = checkNumber(what, 'maxMs', opts.maxMs) ?? 30_000;
    this.#factor = checkNumber(what, 'factor', opts.factor, { min: 1 }) ?? 2;
    this.#jitter = checkNumber(what, 'jitter', opts.jitter, { max: 1 }) ?? 0.2;
    this.#resetAfter = checkNumber(what, 'resetAfterMs', opts.resetAfterMs) ?? 120_000;
  }

  /** Records a failure and returns how long to wait before the next attempt. */
  next(): number {
    const now = monotonicNow(this.#clock);
    if (this.#lastFailureAt !== undefined && now - this.#lastFailureAt >= this.#resetAfter) this.#attempt = 0;
    this.#lastFailureAt = now;
    const base = Math.min(this.#max, this.#initial * this.#factor ** this.#attempt);
    this.#attempt++;
    return Math.round(base * (1 - this.#jitter * this.#random()));
  }

  /** Forgets past failures. */
  reset(): void {
    this.#attempt = 0;
    this.#lastFailureAt = undefined;
  }
}
