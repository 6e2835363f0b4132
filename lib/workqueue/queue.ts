import type { Registry } from 'prom-client';
import { type Clock, realClock } from '../util/clock.js';
import { checkNumber, describeValue } from '../util/options.js';
import { Fifo } from './fifo.js';
import { defaultKeyOf, type KeyFunc } from './key.js';
import { queueMetrics, type QueueMetrics } from './metrics.js';

/** Options shared by every queue layer. */
export interface QueueOptions<T> {
  /** Names the queue in metrics (`name` label) and logs. Default `''`. */
  name?: string;
  /** The `controller` metrics label. Default: the same as `name`, as controller-runtime does. */
  controller?: string;
  /** Time source. Default `realClock`. */
  clock?: Clock;
  /** Identity of an item: two items with one key are one piece of work. Default `defaultKeyOf`. */
  keyOf?: KeyFunc<T>;
  /** prom-client registry for the `workqueue_*` metrics. Default: none, and no metrics cost. */
  registry?: Registry;
  /**
   * The aging bound, in milliseconds of the clock's monotonic time: how long priorities may
   * keep an item waiting, so that low-priority work (initial list, resync) cannot be starved by
   * a stream of higher-priority adds. The exact rule is on `Queue`. Default 10 000 ms; 0 serves
   * in plain queue order; `Infinity` disables aging.
   */
  maxPriorityWaitMs?: number;
}

/** Options of `add`. */
export interface AddOptions {
  /** Higher is served first; FIFO within a level. Default 0. The initial list uses -100. */
  priority?: number;
}

/**
 * The priority of `opts`: 0 when none is given. Anything but a number (NaN included, which
 * compares neither higher nor lower than any level) is a RangeError, thrown before the queue
 * changes.
 */
export function checkPriority(opts: AddOptions | undefined): number {
  const priority = opts?.priority ?? 0;
  if (typeof priority !== 'number' || Number.isNaN(priority))
    throw new RangeError(`work queue: priority must be a number, got ${describeValue(priority)}`);
  return priority;
}

/** The priority controller-runtime gives to events from an informer's initial list. */
export const LOW_PRIORITY = -100;

const QUEUED = 0;
const PROCESSING = 1;
// A slot replaced by a copy at a higher priority; its stale reference in a level is skipped.
const STALE = 2;
// Finished and not queued: left in the map so that the next add of the key reuses it (one map
// lookup, no allocation), until idle slots outnumber the rest (see IDLE_RATIO).
const IDLE = 3;

/** Everything the queue knows about one key: the only per-key record, found through one map. */
interface Slot<T> {
  readonly key: string;
  /** Undefined only while IDLE: a finished key does not keep its item alive. */
  item: T | undefined;
  state: typeof QUEUED | typeof PROCESSING | typeof STALE | typeof IDLE;
  /** QUEUED: the level it is on. PROCESSING and dirty: the level to requeue it on. */
  priority: number;
  /**
   * Queue order: taken from one counter each time the key is queued; a raise keeps it. Each
   * level's FIFO is sorted by it, and "queued before" in the aging rule means a smaller one.
   */
  seq: number;
  /**
   * When its aging clock started (monotonic ms), or -1 if it has not: it was queued while its
   * level was the only one, and no other level has held work since (the clock is not read on
   * that path). When a second level appears, every -1 item is given that time
   * (`#startAging`). Never -1 while several levels exist.
   */
  agingFrom: number;
  /** When the key entered the queue (or, when dirty, was re-added): queue-duration metric. */
  addedAt: number;
  /** When a worker took it: work-duration metric (only read with metrics on). */
  startedAt: number;
  /** PROCESSING and added again: `done()` queues it once more. */
  dirty: boolean;
  /** PROCESSING: its index in `#inFlight`; otherwise -1. */
  flight: number;
}

interface Level<T> {
  readonly priority: number;
  readonly fifo: Fifo<Slot<T>>;
  live: number;
}

/**
 * Finished keys are kept as idle slots: a key that comes back costs no map insert, and one that
 * does not costs no map delete when it finishes. Once idle slots are more than MAX_IDLE and more
 * than IDLE_RATIO times the live ones (queued or processing), they are dropped all at once by
 * copying the live slots into a new map, which costs at most one insert per IDLE_RATIO keys
 * finished: cheaper than a delete per key (each is a cache miss in a large map). So the map
 * holds at most (IDLE_RATIO + 1) times the live keys, plus MAX_IDLE, and is back to empty when
 * the queue is. Above MAX_REBUILD live keys a copy would block the event loop too long (it
 * visits every slot: 5–7 ms for 8,192 live and 24,576 idle, measured on a loaded machine), so
 * finished keys are deleted one by one instead.
 */
const MAX_IDLE = 1024;
const IDLE_RATIO = 3;
const MAX_REBUILD = 8192;

/**
 * Up to this many items in processing, `done()` finds an item's slot by identity among them
 * instead of computing its key and looking it up: a worker hands back the very item `get()`
 * gave it, and with a few in flight a scan is cheaper than building and hashing a key.
 */
const MAX_SCAN = 16;

const queuedBefore = <T>(a: Slot<T>, b: Slot<T>): boolean => a.seq < b.seq;

/**
 * A deduplicating work queue with client-go's rules, plus priorities with aging.
 *
 * Invariants:
 * - A key is queued or being processed, never both: one slot per key in `#slots`.
 * - A key being processed that is added again is marked dirty and queued once, by `done()`.
 *   So a key is never handed to two workers at once, and no add is lost.
 * - Adding a key that is already queued is a no-op (it may raise the key's priority).
 *
 * `get()` resolves in priority order (higher first, FIFO within a level), with aging:
 * - An item's aging clock starts when it is queued; or, if its level is then the queue's only
 *   one, when work at another level next appears (until then nothing can be served before it
 *   that was queued after it, so it is not being starved). The clock keeps running when the
 *   other levels drain and reappear; a raise to a higher priority keeps it, and keeps the
 *   item's place in queue order (as controller-runtime's priority queue does).
 * - The bound: once an item's aging clock reads `maxPriorityWaitMs`, every `get()` hands out
 *   that item or an item queued before it (the oldest queued item goes first).
 * So however much higher-priority work arrives, an item is handed out at most
 * `maxPriorityWaitMs` after its aging clock starts plus the time workers spend on the items
 * queued before it that are still queued then. While only one level holds work, no clock is
 * read.
 *
 * Misuse has defined behaviour: adds after `shutDown()` are dropped; `done()` of an item that
 * is not being processed is a no-op.
 */
export class Queue<T> {
  readonly name: string;
  protected readonly clock: Clock;
  protected readonly keyOf: KeyFunc<T>;
  protected readonly metrics: QueueMetrics | undefined;
  /** The clock's monotonic reading: every duration the queue measures (aging, metrics, delays). */
  protected readonly monotonic: () => number;
  readonly #maxWaitMs: number;

  // Priority levels with queued keys, highest first. Usually one or two.
  #levels: Level<T>[] = [];
  // Every key queued or being processed. A key is in exactly one state, so it can never be
  // handed to two workers, and a re-add while processing sets `dirty` instead of queueing.
  #slots = new Map<string, Slot<T>>();
  #queuedCount = 0;
  // Idle slots in #slots; bounded as MAX_IDLE says, so that memory follows the live keys.
  #idleCount = 0;
  // The next queue-order number (Slot.seq).
  #seq = 0;
  // The slots being processed (unordered; each knows its index): done() finds an item here by
  // identity, and the in-flight metrics read only these.
  #inFlight: Slot<T>[] = [];
  // Workers blocked in get(); non-empty only while nothing is queued.
  #waiters = new Fifo<(item: T | undefined) => void>();
  #shuttingDown = false;
  #drained = false;
  #drainWaiters: Array<() => void> = [];

  constructor(opts: QueueOptions<T> = {}) {
    this.name = opts.name ?? '';
    this.clock = opts.clock ?? realClock;
    const clock = this.clock;
    this.monotonic = (clock.monotonic ?? clock.now).bind(clock);
    this.keyOf = opts.keyOf ?? (defaultKeyOf as KeyFunc<T>);
    this.#maxWaitMs =
      checkNumber('work queue', 'maxPriorityWaitMs', opts.maxPriorityWaitMs, { infinite: true }) ?? 10_000;
    if (opts.registry !== undefined) {
      const inFlight = this.#inFlight;
      const monotonic = this.monotonic;
      this.metrics = queueMetrics(opts.registry, {
        name: this.name,
        controller: opts.controller ?? this.name,
        unfinishedSeconds() {
          const now = monotonic();
          let total = 0;
          for (const p of inFlight) total += now - p.startedAt;
          return total / 1000;
        },
        longestSeconds() {
          const now = monotonic();
          let longest = 0;
          for (const p of inFlight) longest = Math.max(longest, now - p.startedAt);
          return longest / 1000;
        },
      });
    }
  }

  /**
   * Queues `item` unless its key is already queued; a key being processed is queued on `done()`.
   * A priority that is not a number (or NaN) is a RangeError.
   */
  add(item: T, opts?: AddOptions): void {
    if (this.#shuttingDown) return;
    const priority = checkPriority(opts);
    const key = this.keyOf(item);
    const slot = this.#slots.get(key);
    if (slot !== undefined && slot.state === IDLE) {
      const now = this.metrics !== undefined ? this.monotonic() : -1;
      this.#idleCount--;
      slot.item = item;
      slot.state = QUEUED;
      slot.priority = priority;
      slot.addedAt = now;
      this.metrics?.add();
      this.#enqueue(slot, now);
    } else if (slot === undefined) {
      const now = this.metrics !== undefined ? this.monotonic() : -1;
      const fresh: Slot<T> = {
        key,
        item,
        state: QUEUED,
        priority,
        seq: 0,
        agingFrom: -1,
        addedAt: now,
        startedAt: 0,
        dirty: false,
        flight: -1,
      };
      this.#slots.set(key, fresh);
      this.metrics?.add();
      this.#enqueue(fresh, now);
    } else if (slot.state === QUEUED) {
      if (priority > slot.priority) this.#raise(slot, priority);
    } else if (!slot.dirty) {
      slot.dirty = true;
      slot.priority = priority;
      if (this.metrics !== undefined) {
        slot.addedAt = this.monotonic();
        this.metrics.add();
      }
    } else if (priority > slot.priority) {
      slot.priority = priority;
    }
  }

  /**
   * Resolves with the next item, marking it as being processed; call `done(item)` when finished.
   * Waits without polling while the queue is empty. Resolves `undefined` once the queue is shut
   * down and nothing is left queued.
   */
  get(): Promise<T | undefined> {
    if (this.#queuedCount > 0) return Promise.resolve(this.#take());
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks `item` finished. If it was added while being processed, it is queued again now. */
  done(item: T): void {
    const slot = this.#inFlightSlot(item);
    if (slot === undefined) return;
    const inFlight = this.#inFlight;
    const last = inFlight.pop()!;
    if (last !== slot) {
      inFlight[slot.flight] = last;
      last.flight = slot.flight;
    }
    slot.flight = -1;
    const now = this.metrics !== undefined ? this.monotonic() : -1;
    if (this.metrics !== undefined) this.metrics.done(now - slot.startedAt);
    if (!slot.dirty) {
      this.#retire(slot);
    } else if (this.#drained) {
      this.#slots.delete(slot.key);
      this.metrics?.drop();
    } else {
      // Queued even while shutting down: the add came before shutdown and must not be lost.
      slot.dirty = false;
      slot.state = QUEUED;
      this.#enqueue(slot, now);
    }
    this.#checkDrained();
  }

  /** Number of keys queued (not counting keys being processed). */
  len(): number {
    return this.#queuedCount;
  }

  /** Number of keys handed to workers and not yet `done()`. */
  processingLen(): number {
    return this.#inFlight.length;
  }

  /**
   * Stops taking adds. Workers still receive what is queued; then `get()` resolves `undefined`.
   * Idempotent.
   */
  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.onShutDown();
    // Waiters exist only while nothing is queued, so each of them is done.
    for (let w = this.#waiters.shift(); w !== undefined; w = this.#waiters.shift()) w(undefined);
    this.#checkDrained();
  }

  /**
   * Shuts down and resolves once every queued item was handed out and every item handed out is
   * `done()`. Nothing is handed out after it resolves. It needs workers calling `get()`: with
   * none, queued items are never drained, so bound it with a timeout of your own.
   */
  shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.#drained) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Whether `shutDown` was called. */
  shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Hook for layers that hold items outside the queue (delays); called once, first. */
  protected onShutDown(): void {}

  /**
   * Puts a QUEUED slot on its level, or straight into the hands of a waiting worker. `now` is
   * the monotonic time if the caller has read it, else -1.
   */
  #enqueue(slot: Slot<T>, now: number): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      // Nothing is queued, so this item is next.
      this.#startProcessing(slot, now);
      waiter(slot.item as T);
      return;
    }
    slot.seq = this.#seq++;
    this.#queuedCount++;
    const levels = this.#levels;
    const top = levels[0];
    let level: Level<T>;
    if (top !== undefined && levels.length === 1 && top.priority === slot.priority) {
      // The common case: one level. Nothing can overtake the item, so no clock is read.
      slot.agingFrom = -1;
      level = top;
    } else if (top === undefined) {
      slot.agingFrom = -1;
      level = this.#level(slot.priority, -1);
    } else {
      const t = now >= 0 ? now : this.monotonic();
      slot.agingFrom = t;
      level = this.#level(slot.priority, t);
    }
    level.live++;
    level.fifo.push(slot);
  }

  /** The slot of an item being processed, or undefined. */
  #inFlightSlot(item: T): Slot<T> | undefined {
    const inFlight = this.#inFlight;
    const n = inFlight.length;
    if (n <= MAX_SCAN) {
      // Most recently taken first: with one worker, the item it just got.
      for (let i = n - 1; i >= 0; i--) if (inFlight[i]!.item === item) return inFlight[i];
    }
    // Not the item handed out (another object with the same key, or many in flight).
    const slot = this.#slots.get(this.keyOf(item));
    return slot !== undefined && slot.state === PROCESSING ? slot : undefined;
  }

  #startProcessing(slot: Slot<T>, now: number): void {
    slot.state = PROCESSING;
    slot.flight = this.#inFlight.length;
    this.#inFlight.push(slot);
    if (this.metrics !== undefined) {
      if (now < 0) now = this.monotonic();
      slot.startedAt = now;
      this.metrics.get(now - slot.addedAt);
    }
  }

  /**
   * Moves a queued key to a higher level: a fresh slot there, the old one left stale. It keeps
   * its queue order and aging clock, so it goes in among the new level's items by `seq`.
   */
  #raise(slot: Slot<T>, priority: number): void {
    slot.state = STALE;
    const levels = this.#levels;
    const old = levels.find((l) => l.priority === slot.priority)!;
    if (--old.live === 0) levels.splice(levels.indexOf(old), 1);
    const moved: Slot<T> = { ...slot, state: QUEUED, priority };
    this.#slots.set(slot.key, moved);
    const alone = levels.length === 0 || (levels.length === 1 && levels[0]!.priority === priority);
    const now = alone ? -1 : this.monotonic();
    const level = this.#level(priority, now);
    if (!alone && moved.agingFrom < 0) moved.agingFrom = now;
    level.live++;
    level.fifo.insertOrdered(moved, queuedBefore);
  }

  /**
   * The level of `priority`, created if missing. Creating the second level starts the aging
   * clock (at `now`) of the items the other level holds that have none.
   */
  #level(priority: number, now: number): Level<T> {
    const levels = this.#levels;
    let level = levels.find((l) => l.priority === priority);
    if (level === undefined) {
      level = { priority, fifo: new Fifo(), live: 0 };
      let i = 0;
      while (i < levels.length && levels[i]!.priority > priority) i++;
      levels.splice(i, 0, level);
      if (levels.length === 2) Queue.#startAging(levels[1 - i]!, now);
    }
    return level;
  }

  /**
   * Starts the aging clock of a level's items that have none: they were queued while it was
   * the only level, after every item that has one (a level's FIFO is in queue order), so they
   * are its tail.
   */
  static #startAging<T>(level: Level<T>, now: number): void {
    level.fifo.visitFromTail((slot) => {
      if (slot.agingFrom >= 0) return false;
      slot.agingFrom = now;
      return true;
    });
  }

  /** Hands out the next queued item; the caller checked that one is queued. */
  #take(): T {
    const levels = this.#levels;
    let level = levels[0]!;
    let now = -1;
    if (levels.length > 1) {
      // Aging: the oldest queued item (the head with the lowest seq) goes first once it has
      // aged the bound; every other item has aged less.
      now = this.monotonic();
      let oldest = Queue.#head(level);
      let oldestLevel = level;
      for (let i = 1; i < levels.length; i++) {
        const head = Queue.#head(levels[i]!);
        if (head.seq < oldest.seq) {
          oldest = head;
          oldestLevel = levels[i]!;
        }
      }
      if (now - oldest.agingFrom >= this.#maxWaitMs) level = oldestLevel;
    }
    Queue.#head(level);
    const slot = level.fifo.shift()!;
    if (--level.live === 0) {
      level.fifo.clear();
      levels.splice(levels.indexOf(level), 1);
    }
    this.#queuedCount--;
    this.#startProcessing(slot, now);
    return slot.item as T;
  }

  /** The first live slot of a level, discarding stale ones before it. */
  static #head<T>(level: Level<T>): Slot<T> {
    let head = level.fifo.peek()!;
    while (head.state === STALE) {
      level.fifo.shift();
      head = level.fifo.peek()!;
    }
    return head;
  }

  /** Makes a finished slot idle, and keeps the idle ones within their bound (MAX_IDLE). */
  #retire(slot: Slot<T>): void {
    const idle = this.#idleCount;
    const live = this.#slots.size - idle - 1;
    if (idle < MAX_IDLE || idle < IDLE_RATIO * live) {
      slot.state = IDLE;
      slot.item = undefined;
      this.#idleCount = idle + 1;
    } else if (live <= MAX_REBUILD) {
      this.#slots.delete(slot.key);
      this.#sweep();
    } else {
      this.#slots.delete(slot.key);
    }
  }

  /** Drops every idle slot: a new map of the live ones (none once the queue is empty). */
  #sweep(): void {
    const old = this.#slots;
    const slots = new Map<string, Slot<T>>();
    if (old.size > this.#idleCount)
      for (const [key, slot] of old) if (slot.state !== IDLE) slots.set(key, slot);
    this.#slots = slots;
    this.#idleCount = 0;
  }

  #checkDrained(): void {
    if (!this.#shuttingDown || this.#drained) return;
    if (this.#queuedCount > 0 || this.#inFlight.length > 0) return;
    this.#drained = true;
    this.#sweep();
    this.metrics?.close();
    for (const resolve of this.#drainWaiters.splice(0)) resolve();
  }
}
