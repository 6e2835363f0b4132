import type { Registry } from 'prom-client';
import { type Clock, realClock } from '../util/clock.js';
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
   * The aging bound. A queued item that has waited this long is served ahead of every item that
   * has waited less, whatever their priorities, so low-priority work (initial list, resync)
   * cannot be starved by a stream of higher-priority adds. Default 10 000 ms.
   */
  maxPriorityWaitMs?: number;
}

export interface AddOptions {
  /** Higher is served first; FIFO within a level. Default 0. The initial list uses -100. */
  priority?: number;
}

/** The priority controller-runtime gives to events from an informer's initial list. */
export const LOW_PRIORITY = -100;

const QUEUED = 0;
const PROCESSING = 1;
// A slot replaced by a copy at a higher priority; its stale reference in a level is skipped.
const STALE = 2;
// Finished and not queued: left in the map so that the next add of the key reuses it (one map
// lookup, no allocation) until a sweep removes idle slots.
const IDLE = 3;

/** Everything the queue knows about one key: the only per-key record, found through one map. */
interface Slot<T> {
  readonly key: string;
  item: T;
  state: typeof QUEUED | typeof PROCESSING | typeof STALE | typeof IDLE;
  /** QUEUED: the level it is on. PROCESSING and dirty: the level to requeue it on. */
  priority: number;
  /** When the key entered the queue (or, when dirty, was re-added): queue-duration metric. */
  addedAt: number;
  /**
   * When it was pushed on its level: aging. FIFO order within a level follows it. -1 when it
   * was pushed while its level was the only one (the clock is not read then): its wait for
   * higher-priority work starts when a second level appears (`#multiLevelSince`).
   */
  enqueuedAt: number;
  /** When a worker took it: work-duration metric (only read with metrics on). */
  startedAt: number;
  /** PROCESSING and added again: `done()` queues it once more. */
  dirty: boolean;
}

interface Level<T> {
  readonly priority: number;
  readonly fifo: Fifo<Slot<T>>;
  live: number;
}

/**
 * A deduplicating work queue with client-go's rules, plus priorities with aging.
 *
 * Invariants:
 * - A key is queued or being processed, never both: one slot per key in `#slots`.
 * - A key being processed that is added again is marked dirty and queued once, by `done()`.
 *   So a key is never handed to two workers at once, and no add is lost.
 * - Adding a key that is already queued is a no-op (it may raise the key's priority).
 *
 * `get()` resolves in priority order (higher first, FIFO within a level), except that an item
 * that has waited `maxPriorityWaitMs` goes first (oldest first among such items). So an item
 * waits at most `maxPriorityWaitMs` for higher-priority work; after that only items queued
 * before it are served ahead of it.
 *
 * Misuse has defined behaviour: adds after `shutDown()` are dropped; `done()` of an item that
 * is not being processed is a no-op.
 */
export class Queue<T> {
  readonly name: string;
  protected readonly clock: Clock;
  protected readonly keyOf: KeyFunc<T>;
  protected readonly metrics: QueueMetrics | undefined;
  readonly #maxWaitMs: number;

  // Priority levels with queued keys, highest first. Usually one or two.
  #levels: Level<T>[] = [];
  // Every key queued or being processed. A key is in exactly one state, so it can never be
  // handed to two workers, and a re-add while processing sets `dirty` instead of queueing.
  #slots = new Map<string, Slot<T>>();
  #queuedCount = 0;
  // Idle slots in #slots, swept once they outnumber the live keys (and at least 1024 of them),
  // so memory follows the live keys while a hot key costs no map insert or delete per cycle.
  #idleCount = 0;
  // When the queue last went from one priority level to several.
  #multiLevelSince = 0;
  #processingCount = 0;
  // Workers blocked in get(); non-empty only while nothing is queued.
  #waiters = new Fifo<(item: T | undefined) => void>();
  #shuttingDown = false;
  #drained = false;
  #drainWaiters: Array<() => void> = [];

  constructor(opts: QueueOptions<T> = {}) {
    this.name = opts.name ?? '';
    this.clock = opts.clock ?? realClock;
    this.keyOf = opts.keyOf ?? (defaultKeyOf as KeyFunc<T>);
    this.#maxWaitMs = opts.maxPriorityWaitMs ?? 10_000;
    if (!(this.#maxWaitMs >= 0))
      throw new RangeError(`maxPriorityWaitMs must be >= 0, got ${opts.maxPriorityWaitMs}`);
    if (opts.registry !== undefined) {
      const slots = this.#slots;
      const clock = this.clock;
      this.metrics = queueMetrics(opts.registry, {
        name: this.name,
        controller: opts.controller ?? this.name,
        unfinishedSeconds() {
          const now = clock.now();
          let total = 0;
          for (const p of slots.values()) if (p.state === PROCESSING) total += now - p.startedAt;
          return total / 1000;
        },
        longestSeconds() {
          const now = clock.now();
          let longest = 0;
          for (const p of slots.values())
            if (p.state === PROCESSING) longest = Math.max(longest, now - p.startedAt);
          return longest / 1000;
        },
      });
    }
  }

  /** Queues `item` unless its key is already queued; a key being processed is queued on `done()`. */
  add(item: T, opts?: AddOptions): void {
    if (this.#shuttingDown) return;
    const priority = opts?.priority ?? 0;
    const key = this.keyOf(item);
    const slot = this.#slots.get(key);
    if (slot !== undefined && slot.state === IDLE) {
      const now = this.metrics !== undefined ? this.clock.now() : this.#stamp(priority);
      this.#idleCount--;
      slot.item = item;
      slot.state = QUEUED;
      slot.priority = priority;
      slot.addedAt = now;
      this.metrics?.add();
      this.#enqueue(slot, now);
    } else if (slot === undefined) {
      const now = this.metrics !== undefined ? this.clock.now() : this.#stamp(priority);
      const fresh: Slot<T> = {
        key,
        item,
        state: QUEUED,
        priority,
        addedAt: now,
        enqueuedAt: now,
        startedAt: 0,
        dirty: false,
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
        slot.addedAt = this.clock.now();
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
    const key = this.keyOf(item);
    const slot = this.#slots.get(key);
    if (slot === undefined || slot.state !== PROCESSING) return;
    this.#processingCount--;
    const now = this.metrics !== undefined ? this.clock.now() : -1;
    if (this.metrics !== undefined) this.metrics.done(now - slot.startedAt);
    if (!slot.dirty) {
      slot.state = IDLE;
      if (++this.#idleCount > 1024 && this.#idleCount > this.#queuedCount + this.#processingCount)
        this.#sweep();
    } else if (this.#drained) {
      this.#slots.delete(key);
      this.metrics?.drop();
    } else {
      // Queued even while shutting down: the add came before shutdown and must not be lost.
      slot.dirty = false;
      slot.state = QUEUED;
      this.#enqueue(slot, now >= 0 ? now : this.#stamp(slot.priority));
    }
    this.#checkDrained();
  }

  /** Number of keys queued (not counting keys being processed). */
  len(): number {
    return this.#queuedCount;
  }

  /** Number of keys handed to workers and not yet `done()`. */
  processingLen(): number {
    return this.#processingCount;
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

  shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Hook for layers that hold items outside the queue (delays); called once, first. */
  protected onShutDown(): void {}

  /** Puts a QUEUED slot on its level, or straight into the hands of a waiting worker. */
  #enqueue(slot: Slot<T>, now: number): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) {
      // Nothing is queued, so this item is next.
      this.#startProcessing(slot, now);
      waiter(slot.item);
      return;
    }
    slot.enqueuedAt = now;
    this.#queuedCount++;
    this.#level(slot.priority).fifo.push(slot);
  }

  /**
   * The time to stamp an item pushed on `priority`'s level with, for aging; -1 (no clock read)
   * when that level is, and stays, the only one.
   */
  #stamp(priority: number): number {
    const levels = this.#levels;
    return levels.length === 0 || (levels.length === 1 && levels[0]!.priority === priority)
      ? -1
      : this.clock.now();
  }

  #startProcessing(slot: Slot<T>, now: number): void {
    slot.state = PROCESSING;
    this.#processingCount++;
    if (this.metrics !== undefined) {
      slot.startedAt = now;
      this.metrics.get(now - slot.addedAt);
    }
  }

  /** Moves a queued key to a higher level: a fresh slot there, the old one left stale. */
  #raise(slot: Slot<T>, priority: number): void {
    slot.state = STALE;
    const old = this.#levels.find((l) => l.priority === slot.priority)!;
    if (--old.live === 0) this.#levels.splice(this.#levels.indexOf(old), 1);
    const moved: Slot<T> = { ...slot, state: QUEUED, priority, enqueuedAt: this.clock.now() };
    this.#slots.set(slot.key, moved);
    this.#level(priority).fifo.push(moved);
  }

  #level(priority: number): Level<T> {
    const levels = this.#levels;
    const top = levels[0];
    let level =
      top !== undefined && top.priority === priority ? top : levels.find((l) => l.priority === priority);
    if (level === undefined) {
      level = { priority, fifo: new Fifo(), live: 0 };
      let i = 0;
      while (i < levels.length && levels[i]!.priority > priority) i++;
      levels.splice(i, 0, level);
      if (levels.length === 2) this.#multiLevelSince = this.clock.now();
    }
    level.live++;
    return level;
  }

  /** Hands out the next queued item; the caller checked that one is queued. */
  #take(): T {
    const levels = this.#levels;
    let level = levels[0]!;
    let now = -1;
    if (levels.length > 1) {
      // Aging: the oldest head of any level goes first once it has waited the bound.
      now = this.clock.now();
      let oldestAt = Infinity;
      let oldest = level;
      for (const l of levels) {
        const head = Queue.#head(l);
        const at = head.enqueuedAt >= 0 ? head.enqueuedAt : this.#multiLevelSince;
        if (at < oldestAt) {
          oldestAt = at;
          oldest = l;
        }
      }
      if (now - oldestAt >= this.#maxWaitMs) level = oldest;
    }
    Queue.#head(level);
    const slot = level.fifo.shift()!;
    if (--level.live === 0) {
      level.fifo.clear();
      levels.splice(levels.indexOf(level), 1);
    }
    this.#queuedCount--;
    // The clock is read here only for metrics (and aging, above).
    if (now < 0 && this.metrics !== undefined) now = this.clock.now();
    this.#startProcessing(slot, now);
    return slot.item;
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

  /** Drops idle slots from the map. Amortised O(1): it runs after as many idle marks as it removes. */
  #sweep(): void {
    for (const [key, slot] of this.#slots) if (slot.state === IDLE) this.#slots.delete(key);
    this.#idleCount = 0;
  }

  #checkDrained(): void {
    if (!this.#shuttingDown || this.#drained) return;
    if (this.#queuedCount > 0 || this.#processingCount > 0) return;
    this.#drained = true;
    this.#sweep();
    this.metrics?.close();
    for (const resolve of this.#drainWaiters.splice(0)) resolve();
  }
}
