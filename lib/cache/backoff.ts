import { type Clock, monotonicNow } from '../util/clock.js';

export interface ReconnectBackoffOptions {
  /** First delay. Default 800 ms (client-go's reflector). */
  initialMs?: number;
  /** Delay cap. Default 30 000 ms. */
  maxMs?: number;
  /** Growth per consecutive failure. Default 2. */
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
    this.#initial = opts.initialMs ?? 800;
    this.#max = opts.maxMs ?? 30_000;
    this.#factor = opts.factor ?? 2;
    this.#jitter = Math.min(1, Math.max(0, opts.jitter ?? 0.2));
    this.#resetAfter = opts.resetAfterMs ?? 120_000;
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
