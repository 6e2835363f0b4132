import type { Client } from '../client/client.js';
import type { KubernetesObject } from '../client/object.js';
import { rfc3339Time } from '../client/time.js';
import { type Logger, silentLogger } from '../log/logger.js';
import { type Clock, monotonicNow, realClock } from '../util/clock.js';
import { checkNumber } from '../util/options.js';
import { WriteLimiter } from './write-limiter.js';

/** An Event's type, as `kubectl describe` shows it. */
export type EventType = 'Normal' | 'Warning';

const EVENT_GVK = { group: '', version: 'v1', kind: 'Event' };

/** Options of `EventRecorder`. */
export interface EventRecorderOptions {
  /** `source.component` and `reportingComponent` of every event. */
  component: string;
  /** `reportingInstance`, e.g. the pod name. Default: none. */
  instance?: string;
  /** Repeats of one event within this window bump its count instead of creating another. Default 10 min. */
  aggregationWindowMs?: number;
  /** Per involved object: this many events at once, then one every `refillMs`. Default 25. */
  burst?: number;
  /** Default 5 min (client-go's event spam filter: 25 burst, one per 5 minutes). */
  refillMs?: number;
  /** Event writes in flight at once, so events never crowd reconcile writes out of the client. Default 8. */
  concurrency?: number;
  /**
   * Event writes waiting for those; more are dropped and counted in `dropped`, as client-go's
   * broadcaster drops past its 1000-event buffer, so an API outage cannot grow memory without
   * bound. Default 1000.
   */
  maxQueued?: number;
  /**
   * Events remembered for aggregation, and objects for the rate limit, at most: the least recently
   * used are forgotten first (a repeat of a forgotten event creates a new Event; a forgotten object's
   * budget starts full). Default 4096, the size of client-go's event correlator caches.
   */
  cacheSize?: number;
  clock?: Clock;
  logger?: Logger;
}

// Times kept here (lastAt, at) are monotonic ms: the aggregation window and the per-object
// budget are durations, which a wall-clock step must not stretch or shrink. Only the
// timestamps written into Events follow the wall clock.
interface Seen {
  name: string;
  namespace: string;
  count: number;
  lastAt: number;
  // A write in flight; later repeats chain on it so counts are never lost or reordered.
  pending: Promise<void>;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Records Kubernetes Events (core/v1) about objects, as `kubectl describe` shows them.
 *
 * Repeats of the same (object, type, reason, message) are aggregated into one Event with a
 * count; each object has a token bucket, so a reconcile error loop cannot flood the API
 * server. Recording never throws and never waits for the API: failures are logged.
 */
export class EventRecorder {
  readonly #client: Client;
  readonly #opts: Required<
    Omit<EventRecorderOptions, 'instance' | 'clock' | 'logger' | 'concurrency' | 'maxQueued'>
  > & {
    instance?: string;
  };
  // Every write goes through here: at most `concurrency` at once, `maxQueued` waiting.
  readonly #writes: WriteLimiter;
  readonly #maxQueued: number;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #seen = new Map<string, Seen>();
  readonly #buckets = new Map<string, Bucket>();
  #dropped = 0;
  #seq = 0;

  constructor(client: Client, opts: EventRecorderOptions) {
    this.#client = client;
    const what = 'EventRecorder';
    this.#opts = {
      component: opts.component,
      instance: opts.instance,
      aggregationWindowMs: checkNumber(what, 'aggregationWindowMs', opts.aggregationWindowMs) ?? 600_000,
      burst: checkNumber(what, 'burst', opts.burst, { min: 1 }) ?? 25,
      refillMs: checkNumber(what, 'refillMs', opts.refillMs, { exclusive: true }) ?? 300_000,
      cacheSize: checkNumber(what, 'cacheSize', opts.cacheSize, { min: 1, integer: true }) ?? 4096,
    };
    this.#clock = opts.clock ?? realClock;
    this.#logger = opts.logger ?? silentLogger();
    const limits = { integer: true, infinite: true };
    this.#writes = new WriteLimiter(
      checkNumber(what, 'concurrency', opts.concurrency, { min: 1, ...limits }) ?? 8,
    );
    this.#maxQueued = checkNumber(what, 'maxQueued', opts.maxQueued, limits) ?? 1000;
  }

  /** Events dropped so far: by the per-object rate limit, or because too many writes were waiting. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Events remembered for aggregation now (at most `cacheSize`). */
  get remembered(): number {
    return this.#seen.size;
  }

  /** Resolves once every event recorded so far has been written (or has failed). */
  onIdle(): Promise<void> {
    return this.#writes.onIdle();
  }

  /** Queues a write; false when it was dropped because `maxQueued` writes are waiting already. */
  #write(fn: () => Promise<unknown>): Promise<boolean> {
    if (this.#writes.waiting >= this.#maxQueued) {
      this.#dropped++;
      return Promise.resolve(false);
    }
    return this.#writes.run(async () => {
      await fn();
      return true;
    });
  }

  /** Records an event about `obj`. Returns a promise for tests; callers need not await it. */
  event(obj: KubernetesObject, type: EventType, reason: string, message: string): Promise<void> {
    const meta = obj.metadata ?? {};
    const uid = meta.uid ?? `${meta.namespace ?? ''}/${meta.name ?? ''}`;
    const now = monotonicNow(this.#clock);
    const wall = this.#clock.now();
    if (!this.#take(uid, now)) {
      this.#dropped++;
      return Promise.resolve();
    }
    const key = `${uid}\u0000${type}\u0000${reason}\u0000${message}`;
    const seen = this.#seen.get(key);
    if (seen !== undefined && now - seen.lastAt < this.#opts.aggregationWindowMs) {
      seen.count++;
      seen.lastAt = now;
      toNewest(this.#seen, key, seen);
      const count = seen.count;
      seen.pending = seen.pending.then(async () => {
        await this.#write(() => this.#bump(seen, count, wall));
      });
      return seen.pending;
    }
    this.#prune(now);
    const namespace = meta.namespace || 'default';
    const entry: Seen = {
      name: `${meta.name ?? 'unknown'}.${this.#suffix(wall)}`,
      namespace,
      count: 1,
      lastAt: now,
      pending: Promise.resolve(),
    };
    // An expired entry of the same key is replaced at the end of the order, not in its place.
    toNewest(this.#seen, key, entry);
    const t = rfc3339Time(wall);
    entry.pending = this.#write(() =>
      this.#client.create(
        {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name: entry.name, namespace },
          involvedObject: {
            apiVersion: obj.apiVersion,
            kind: obj.kind,
            name: meta.name,
            namespace: meta.namespace,
            uid: meta.uid,
            resourceVersion: meta.resourceVersion,
          },
          type,
          reason,
          message,
          count: 1,
          firstTimestamp: t,
          lastTimestamp: t,
          source: { component: this.#opts.component },
          reportingComponent: this.#opts.component,
          reportingInstance: this.#opts.instance ?? '',
        },
        // Nothing of the answer is read: the metadata alone costs the server and us less.
        { metadataOnlyResponse: true },
      ),
    ).then(
      (written) => {
        // Dropped: the next repeat creates the Event instead of bumping one that never was.
        if (!written) this.#seen.delete(key);
      },
      (err: unknown) => {
        this.#seen.delete(key);
        this.#logger.warn('Failed to record an event', {
          reason,
          error: err,
        });
      },
    );
    return entry.pending;
  }

  async #bump(seen: Seen, count: number, wall: number): Promise<void> {
    try {
      await this.#client.patch(
        EVENT_GVK,
        { namespace: seen.namespace, name: seen.name },
        { type: 'merge', body: { count, lastTimestamp: rfc3339Time(wall) } },
        { metadataOnlyResponse: true },
      );
    } catch (err) {
      this.#logger.warn('Failed to update an event', {
        error: err,
      });
    }
  }

  #take(uid: string, now: number): boolean {
    let b = this.#buckets.get(uid);
    if (b === undefined) {
      b = { tokens: this.#opts.burst, at: now };
      this.#buckets.set(uid, b);
      evictOldest(this.#buckets, this.#opts.cacheSize);
    } else {
      toNewest(this.#buckets, uid, b);
    }
    b.tokens = Math.min(this.#opts.burst, b.tokens + (now - b.at) / this.#opts.refillMs);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /**
   * A unique suffix for an Event name, as client-go makes them (`<object>.<time in hex>`): the
   * time in nanoseconds, whose last digits count up within this process, so two events in one
   * millisecond still differ. (Random bytes cost a call into the system's entropy source per
   * event.)
   */
  #suffix(now: number): string {
    this.#seq = (this.#seq + 1) % 1_000_000;
    return (BigInt(Math.floor(now)) * 1_000_000n + BigInt(this.#seq)).toString(16);
  }

  /**
   * Makes room for one more aggregation entry once `cacheSize` are kept: forgets those older
   * than the window, then the least recently seen. Both maps are kept in order of last use
   * (`toNewest`), so this looks only at the entries it forgets: constant time per event, where
   * a scan of the whole cache cost thousands of steps per event once it was full. Buckets are
   * bounded the same way when they are added (a forgotten bucket starts full again, as an
   * unused one would have refilled).
   */
  #prune(now: number): void {
    if (this.#seen.size < this.#opts.cacheSize) return;
    for (const [k, s] of this.#seen) {
      if (now - s.lastAt < this.#opts.aggregationWindowMs) break;
      this.#seen.delete(k);
    }
    evictOldest(this.#seen, this.#opts.cacheSize - 1);
  }
}

/** Moves an entry to the end of its map's order: the map is kept least recently used first. */
function toNewest<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
}

/** Deletes a map's first-inserted (least recently used) entries until it holds at most `max`. */
function evictOldest(map: Map<string, unknown>, max: number): void {
  for (const k of map.keys()) {
    if (map.size <= max) return;
    map.delete(k);
  }
}
