/**
 * Time as the framework sees it. Every piece of time logic in Steward (queue delays, rate
 * limiters, leases, timeouts) takes a `Clock`, so tests drive it with a `FakeClock` and never
 * sleep.
 */

/** An opaque handle returned by `Clock.setTimeout`. */
export type Timer = { readonly __timer: unique symbol } | object;

/** Where time comes from: `realClock` in production, a `FakeClock` in tests. */
export interface Clock {
  /**
   * Milliseconds since the Unix epoch (the wall clock for `realClock`). Use it for timestamps
   * written to or compared with the API (creationTimestamp, renewTime, completionTime); never
   * for a local duration, which an NTP step of the wall clock would stretch or shrink.
   */
  now(): number;
  /**
   * Milliseconds from an arbitrary origin that never jumps (Go's monotonic reading): use it for
   * durations, delays, expiry and deadlines measured in this process. Optional so that a
   * hand-written clock with only `now()` still fits; read it through `monotonicNow(clock)`.
   */
  monotonic?(): number;
  /**
   * Calls `fn` once, `ms` milliseconds from now (negative or NaN means 0, Infinity never). Any
   * delay is allowed: implementations must not be limited to what one Node timer can hold.
   */
  setTimeout(fn: () => void, ms: number): Timer;
  /** Cancels a timer; cancelling a fired or unknown timer is a no-op. */
  clearTimeout(timer: Timer): void;
}

/**
 * The longest delay one Node timer can hold: 2^31−1 ms, about 24.8 days. Node turns a longer
 * one into 1 ms (with a `TimeoutOverflowWarning`); `realClock` chains timers instead, so any
 * delay is safe to pass to a `Clock`.
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

type NodeTimer = ReturnType<typeof setTimeout>;

/**
 * The handle of a delay longer than one Node timer holds: a chain of timers of at most
 * `MAX_TIMER_DELAY_MS` each, one pending at a time, so a 30-day wait costs one wake-up every
 * 24.8 days. `current` is the pending link, replaced as each one fires.
 */
class ChainedTimer {
  current: NodeTimer | undefined;
}

function setRealTimeout(fn: () => void, ms: number): Timer {
  // NaN and negative mean now, as the Clock contract says (Node would warn about NaN).
  const delay = ms > 0 ? ms : 0;
  if (delay <= MAX_TIMER_DELAY_MS) return setTimeout(fn, delay) as unknown as Timer;
  const chain = new ChainedTimer();
  // Counted down link by link on Node's own (monotonic) timers: a link never fires early, so
  // the whole chain never does either. Infinity stays Infinity: it never fires.
  let remaining = delay;
  const next = (): void => {
    const link = Math.min(remaining, MAX_TIMER_DELAY_MS);
    remaining -= link;
    chain.current = setTimeout(remaining > 0 ? next : fn, link);
  };
  next();
  return chain;
}

/** The process's clock: `Date.now()`, `performance.now()` and Node's timers, for any delay. */
export const realClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: setRealTimeout,
  clearTimeout: (timer) =>
    clearTimeout(timer instanceof ChainedTimer ? timer.current : (timer as unknown as NodeTimer)),
};

/** The clock's monotonic reading, or its wall clock when it has none. */
export function monotonicNow(clock: Clock): number {
  return clock.monotonic !== undefined ? clock.monotonic() : clock.now();
}

interface FakeTimer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/**
 * A clock that moves only when told to. `step(ms)` advances time and fires every timer that
 * falls due, earliest first (ties in the order they were set), each with `now()` reading its
 * own due time; timers set by a callback fire in the same step if they fall due within it.
 * `stepWall(ms)` moves only the wall clock (an NTP step, either way): `monotonic()` and the
 * timers are not affected, as with Node's real timers.
 */
export class FakeClock implements Clock {
  #now: number;
  // monotonic() = #now - #wallOffset: the wall clock's steps are kept out of it.
  #wallOffset = 0;
  #seq = 0;
  // Pending timers, sorted by (at, seq). Tests hold few timers; a sorted array keeps it simple.
  #timers: FakeTimer[] = [];

  constructor(startMs = Date.UTC(2026, 0, 1)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now + this.#wallOffset;
  }

  monotonic(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    // NaN and negative mean now, as on realClock (Math.max(0, NaN) is NaN, which no due time
    // compares with, and which step() would have made the clock's reading).
    const timer: FakeTimer = { at: this.#now + (ms > 0 ? ms : 0), seq: this.#seq++, fn };
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
    // NaN would fire every timer and leave the clock reading NaN; Infinity would read Infinity.
    if (!(ms >= 0) || ms === Infinity)
      throw new RangeError(`FakeClock.step: ${ms} is not a finite step >= 0`);
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
    this.step(Math.max(0, ms - this.now()));
  }

  /** Steps the wall clock alone by `ms` (negative steps it back); fires nothing. */
  stepWall(ms: number): void {
    if (!Number.isFinite(ms)) throw new RangeError(`FakeClock.stepWall: ${ms} is not finite`);
    this.#wallOffset += ms;
  }

  /** How many timers are pending. */
  pendingTimers(): number {
    return this.#timers.length;
  }

  /** Due time of the earliest pending timer on the wall clock, or undefined. */
  nextTimerAt(): number | undefined {
    const at = this.#timers[0]?.at;
    return at === undefined ? undefined : at + this.#wallOffset;
  }
}
