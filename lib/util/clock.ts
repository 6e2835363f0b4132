/**
 * Time as the framework sees it. Every piece of time logic in Steward (queue delays, rate
 * limiters, leases, timeouts) takes a `Clock`, so tests drive it with a `FakeClock` and never
 * sleep.
 */

/** An opaque handle returned by `Clock.setTimeout`. */
export type Timer = { readonly __timer: unique symbol } | object;

export interface Clock {
  /** Milliseconds since the Unix epoch (wall clock for `realClock`). */
  now(): number;
  /** Calls `fn` once, `ms` milliseconds from now (negative means 0). */
  setTimeout(fn: () => void, ms: number): Timer;
  /** Cancels a timer; cancelling a fired or unknown timer is a no-op. */
  clearTimeout(timer: Timer): void;
}

/** The process's clock: `Date.now()` and Node's timers. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, ms)) as unknown as Timer,
  clearTimeout: (timer) => clearTimeout(timer as unknown as ReturnType<typeof setTimeout>),
};

interface FakeTimer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/**
 * A clock that moves only when told to. `step(ms)` advances time and fires every timer that
 * falls due, earliest first (ties in the order they were set), each with `now()` reading its
 * own due time; timers set by a callback fire in the same step if they fall due within it.
 */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  // Pending timers, sorted by (at, seq). Tests hold few timers; a sorted array keeps it simple.
  #timers: FakeTimer[] = [];

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const timer: FakeTimer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    let i = this.#timers.length;
    while (i > 0 && this.#timers[i - 1]!.at > timer.at) i--;
    this.#timers.splice(i, 0, timer);
    return timer;
  }

  clearTimeout(timer: Timer): void {
    const i = this.#timers.indexOf(timer as FakeTimer);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  /** Advances time by `ms`, firing due timers in time order. */
  step(ms: number): void {
    if (ms < 0) throw new RangeError(`FakeClock.step: negative step ${ms}`);
    const end = this.#now + ms;
    for (;;) {
      const next = this.#timers[0];
      if (next === undefined || next.at > end) break;
      this.#timers.shift();
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = end;
  }

  /** Sets the time to `ms` (not earlier than now), firing what falls due on the way. */
  setTime(ms: number): void {
    this.step(Math.max(0, ms - this.#now));
  }

  /** How many timers are pending. */
  pendingTimers(): number {
    return this.#timers.length;
  }

  /** Due time of the earliest pending timer, or undefined. */
  nextTimerAt(): number | undefined {
    return this.#timers[0]?.at;
  }
}
