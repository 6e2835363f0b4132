/**
 * At most `concurrency` writes at once; the rest wait in arrival order. What the event recorder
 * needs of a task queue and nothing more (no priorities, timeouts or events), because it runs on
 * every Event: a slot that frees goes straight to the next waiter.
 */
export class WriteLimiter {
  readonly concurrency: number;
  #running = 0;
  // Waiters from #head on; the array is compacted once most of it has been served.
  #waiting: Array<(() => void) | undefined> = [];
  #head = 0;
  #idle: Array<() => void> = [];

  /** `concurrency`: a whole number >= 1, or Infinity (the caller checks it). */
  constructor(concurrency: number) {
    this.concurrency = concurrency;
  }

  /** Writes waiting for a slot (not counting those running). */
  get waiting(): number {
    return this.#waiting.length - this.#head;
  }

  /** Runs `fn` once a slot is free; settles as it does. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#running < this.concurrency) this.#running++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await fn();
    } finally {
      this.#release();
    }
  }

  /** Resolves once nothing runs or waits. */
  onIdle(): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #release(): void {
    if (this.#head < this.#waiting.length) {
      // The slot passes to the next waiter: #running stays as it is.
      const next = this.#waiting[this.#head]!;
      this.#waiting[this.#head++] = undefined;
      if (this.#head >= 1024 && this.#head * 2 >= this.#waiting.length) {
        this.#waiting = this.#waiting.slice(this.#head);
        this.#head = 0;
      }
      next();
      return;
    }
    if (--this.#running === 0) {
      const idle = this.#idle;
      this.#idle = [];
      for (const resolve of idle) resolve();
    }
  }
}
