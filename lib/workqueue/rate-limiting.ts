import { DelayingQueue } from './delaying.js';
import type { AddOptions, QueueOptions } from './queue.js';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiters.js';

export interface RateLimitingQueueOptions<T> extends QueueOptions<T> {
  /**
   * Delays for `addRateLimited`. Default `defaultControllerRateLimiter()` on the queue's clock
   * and key function.
   */
  rateLimiter?: RateLimiter<T>;
}

/**
 * The queue controllers use: a `DelayingQueue` whose retries wait as a `RateLimiter` says.
 * On failure call `addRateLimited(item)`; on success `forget(item)` so its backoff starts over.
 */
export class RateLimitingQueue<T> extends DelayingQueue<T> {
  readonly #limiter: RateLimiter<T>;

  constructor(opts: RateLimitingQueueOptions<T> = {}) {
    super(opts);
    this.#limiter =
      opts.rateLimiter ?? defaultControllerRateLimiter<T>({ clock: this.clock, keyOf: this.keyOf });
  }

  /** Adds `item` after the delay the rate limiter gives it (which counts a retry). */
  addRateLimited(item: T, opts?: AddOptions): void {
    if (this.shuttingDown()) return;
    this.metrics?.retry();
    this.addAfter(item, this.#limiter.when(item), opts);
  }

  /** Clears `item`'s retry history. It does not remove the item from the queue. */
  forget(item: T): void {
    this.#limiter.forget(item);
  }

  /** How many times `item` was re-added rate-limited since it was last forgotten. */
  numRequeues(item: T): number {
    return this.#limiter.numRequeues(item);
  }
}
