import type { Timer } from '../util/clock.js';
import { describeValue } from '../util/options.js';
import { MinHeap, type HeapEntry } from './heap.js';
import { type AddOptions, checkPriority, Queue, type QueueOptions } from './queue.js';

/** An item waiting for its delay; `at` is its due time on the monotonic clock. */
interface Waiting<T> extends HeapEntry {
  readonly key: string;
  readonly item: T;
  priority: number;
}

/**
 * A `Queue` that can also add an item after a delay. All waiting items share one timer, armed
 * for the earliest of them, over a min-heap: `addAfter` costs O(log n) and never creates a timer
 * per item. Due times are on the clock's monotonic reading, so a step of the wall clock (NTP)
 * makes no item early or late; any delay is allowed (the clock chains timers beyond Node's
 * limit of about 24.8 days).
 */
export class DelayingQueue<T> extends Queue<T> {
  readonly #heap = new MinHeap<Waiting<T>>();
  // The waiting entry of each key: a key waits at most once, at its earliest time.
  readonly #waiting = new Map<string, Waiting<T>>();
  #seq = 0;
  #timer: Timer | undefined;
  // Due time (monotonic) the timer is armed for; Infinity when none is.
  #timerAt = Infinity;

  constructor(opts: QueueOptions<T> = {}) {
    super(opts);
  }

  /**
   * Adds `item` after `delayMs`: any length (`Infinity` never adds it, and keeps nothing
   * waiting); zero, negative or NaN adds it now. If its key is already waiting, the earlier of
   * the two times is kept (and the higher priority). Dropped after shutdown. A delay or
   * priority that is not a number is a RangeError (a string delay would be concatenated to
   * the clock's reading).
   */
  addAfter(item: T, delayMs: number, opts?: AddOptions): void {
    if (this.shuttingDown()) return;
    if (typeof delayMs !== 'number')
      throw new RangeError(`work queue: delayMs must be a number, got ${describeValue(delayMs)}`);
    // Checked here as well as in add(): a waiting item is added from the timer, where a throw
    // would be an uncaught exception.
    const priority = checkPriority(opts);
    if (!(delayMs > 0)) {
      this.add(item, opts);
      return;
    }
    const key = this.keyOf(item);
    const at = this.monotonic() + delayMs;
    const waiting = this.#waiting.get(key);
    if (waiting !== undefined) {
      if (priority > waiting.priority) waiting.priority = priority;
      if (at >= waiting.at) return;
      waiting.at = at;
      this.#heap.update(waiting);
    } else if (at === Infinity) {
      // Never due: an entry would only hold the key's memory for ever.
      return;
    } else {
      const entry: Waiting<T> = { key, item, priority, at, seq: this.#seq++, index: -1 };
      this.#waiting.set(key, entry);
      this.#heap.push(entry);
    }
    if (at < this.#timerAt) this.#arm();
  }

  /** Number of items waiting for their delay to pass. */
  waitingLen(): number {
    return this.#waiting.size;
  }

  protected override onShutDown(): void {
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#heap.clear();
    this.#waiting.clear();
  }

  /** Arms the timer for the earliest waiting item (or disarms it when none waits). */
  #arm(): void {
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const head = this.#heap.peek();
    if (head === undefined) return;
    this.#timerAt = head.at;
    // At least 1 ms: a timer that fires a hair early re-arms instead of spinning.
    this.#timer = this.clock.setTimeout(() => this.#fire(), Math.max(1, head.at - this.monotonic()));
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.monotonic();
    for (let head = this.#heap.peek(); head !== undefined && head.at <= now; head = this.#heap.peek()) {
      this.#heap.pop();
      this.#waiting.delete(head.key);
      this.add(head.item, { priority: head.priority });
    }
    this.#arm();
  }
}
