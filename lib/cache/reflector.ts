import type { ListerWatcher } from '../client/client.js';
import { isGone } from '../client/errors.js';
import type { GVK } from '../client/gvk.js';
import { gvkString } from '../client/gvk.js';
import type { KubernetesObject } from '../client/object.js';
import type { FieldSelectorInput, LabelSelectorInput } from '../client/selectors.js';
import type { Clock, Timer } from '../util/clock.js';
import { monotonicNow, realClock } from '../util/clock.js';
import { checkReflectorTuning } from './reflector-tuning.js';
import type { ReconnectBackoffOptions } from './backoff.js';
import { ReconnectBackoff } from './backoff.js';
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';

/** Where a reflector delivers what it sees. Calls are synchronous and in server order. */
export interface ReflectorSink<T extends KubernetesObject> {
  /** The complete state after a (re-)list. */
  replace(items: T[], resourceVersion: string): void;
  /** One watch event. */
  event(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T): void;
}

/** Why a watch ended and the reflector started another (for metrics and logs). */
export type RestartReason = 'gone' | 'idle' | 'error' | 'closed';

/** Options of `Reflector`: what to list and watch, and how to recover. */
export interface ReflectorOptions {
  gvk: GVK;
  /** Omitted watches all namespaces. */
  namespace?: string;
  labelSelector?: LabelSelectorInput;
  fieldSelector?: FieldSelectorInput;
  /** Items per LIST page (an integer >= 1). Default 500. */
  pageSize?: number;
  /** Reconnect backoff; defaults ≈0.8 s doubling to 30 s, reset after 2 min without failures. */
  backoff?: ReconnectBackoffOptions;
  /**
   * A watch that delivers nothing, not even a bookmark, for this long is presumed dead (a
   * half-open connection or a proxy that stopped forwarding) and is replaced. The API server
   * sends a bookmark about once a minute, so the default of 3 minutes never fires on a healthy
   * watch. Default 180 000 ms.
   */
  watchIdleTimeoutMs?: number;
  /**
   * Server-side watch timeout range in seconds; each watch picks a random value in it so that
   * many clients do not reconnect in step (client-go uses 5–10 minutes). Default [300, 600].
   */
  watchTimeoutSeconds?: [min: number, max: number];
  /** A clean watch close this soon with no events counts as a failure (backoff). Default 1000 ms. */
  minWatchDurationMs?: number;
  clock?: Clock;
  /** Jitter source, for tests. Default `Math.random`. */
  random?: () => number;
  logger?: Logger;
  /** Called whenever a watch is replaced, with the reason. */
  onRestart?: (reason: RestartReason) => void;
  /** Called after every successful (re-)list. */
  onList?: () => void;
}

class WatchIdleError extends Error {
  readonly code = 'ERR_WATCH_IDLE';
}

/**
 * Keeps a sink in step with the server: a paginated consistent LIST, then a WATCH from the
 * list's resourceVersion with bookmarks. On 410 Gone it lists again; on any other failure, or a
 * watch gone silent, it reconnects from the last resourceVersion seen after a jittered
 * exponential backoff. It never gives up and never throws: `run` resolves only when aborted.
 */
export class Reflector<T extends KubernetesObject = KubernetesObject> {
  readonly gvk: GVK;
  #lw: ListerWatcher;
  #sink: ReflectorSink<T>;
  #opts: ReflectorOptions;
  #clock: Clock;
  #random: () => number;
  #logger: Logger;
  #backoff: ReconnectBackoff;
  #lastResourceVersion = '';
  // Why the last list or watch failed; cleared by a successful list. For "why has this not
  // synced" reports (the Manager's cache sync timeout, readiness).
  #lastError: unknown;

  constructor(lw: ListerWatcher, sink: ReflectorSink<T>, opts: ReflectorOptions) {
    checkReflectorTuning('Reflector', opts);
    this.gvk = opts.gvk;
    this.#lw = lw;
    this.#sink = sink;
    this.#opts = opts;
    this.#clock = opts.clock ?? realClock;
    this.#random = opts.random ?? Math.random;
    this.#logger = opts.logger ?? silentLogger();
    this.#backoff = new ReconnectBackoff(this.#clock, opts.backoff, this.#random);
  }

  /** The resourceVersion of the last list, event or bookmark delivered. */
  get lastResourceVersion(): string {
    return this.#lastResourceVersion;
  }

  /** The error of the last failed list or watch, until a list succeeds; else undefined. */
  get lastError(): unknown {
    return this.#lastError;
  }

  /** Lists and watches until `signal` aborts. Never rejects. */
  async run(signal: AbortSignal): Promise<void> {
    let needList = true;
    let consecutiveGone = 0;
    const what = { gvk: gvkString(this.gvk), namespace: this.#opts.namespace ?? '' };
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.#list(signal);
          this.#lastError = undefined;
          needList = false;
          this.#opts.onList?.();
        }
        const started = monotonicNow(this.#clock);
        const events = await this.#watch(signal);
        if (signal.aborted) break;
        consecutiveGone = 0;
        this.#opts.onRestart?.('closed');
        // A watch the server ends at once with nothing in it (a misbehaving proxy, an overloaded
        // server) would otherwise be reopened in a tight loop.
        if (events === 0 && monotonicNow(this.#clock) - started < (this.#opts.minWatchDurationMs ?? 1000)) {
          await this.#sleep(this.#backoff.next(), signal);
        }
      } catch (err) {
        if (signal.aborted) break;
        if (isGone(err)) {
          // Our resourceVersion was compacted away: only a fresh list can tell what changed.
          this.#logger.info('resourceVersion too old, re-listing', {
            ...what,
            resourceVersion: this.#lastResourceVersion,
          });
          this.#opts.onRestart?.('gone');
          needList = true;
          consecutiveGone++;
          if (consecutiveGone > 1) await this.#sleep(this.#backoff.next(), signal);
          continue;
        }
        consecutiveGone = 0;
        this.#lastError = err;
        const reason: RestartReason = err instanceof WatchIdleError ? 'idle' : 'error';
        const delay = this.#backoff.next();
        this.#logger.warn(
          reason === 'idle' ? 'watch went silent, reconnecting' : 'list/watch failed, retrying',
          {
            ...what,
            error: err,
            retryInMs: delay,
          },
        );
        this.#opts.onRestart?.(reason);
        await this.#sleep(delay, signal);
      }
    }
  }

  async #list(signal: AbortSignal): Promise<void> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.#lw.list<T>(this.gvk, {
        namespace: this.#opts.namespace,
        labelSelector: this.#opts.labelSelector,
        fieldSelector: this.#opts.fieldSelector,
        limit: this.#opts.pageSize ?? 500,
        continue: cont,
        signal,
      });
      for (const item of page.items) items.push(item);
      cont = page.metadata.continue || undefined;
      rv = page.metadata.resourceVersion ?? rv;
    } while (cont !== undefined && !signal.aborted);
    if (signal.aborted) return;
    this.#lastResourceVersion = rv;
    this.#sink.replace(items, rv);
  }

  /** Runs one watch to its end; returns how many events it delivered. */
  async #watch(signal: AbortSignal): Promise<number> {
    // The caller may have aborted while the list was being delivered; an abort event that has
    // already fired would never reach the listener below.
    if (signal.aborted) return 0;
    const ac = new AbortController();
    const onAbort = (): void => ac.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const idleMs = this.#opts.watchIdleTimeoutMs ?? 180_000;
    let timer: Timer | undefined;
    const arm = (): void => {
      if (timer !== undefined) this.#clock.clearTimeout(timer);
      timer = this.#clock.setTimeout(
        () => ac.abort(new WatchIdleError(`no watch event for ${idleMs} ms`)),
        idleMs,
      );
    };
    const [min, max] = this.#opts.watchTimeoutSeconds ?? [300, 600];
    let events = 0;
    try {
      arm();
      const stream = this.#lw.watch<T>(this.gvk, {
        namespace: this.#opts.namespace,
        labelSelector: this.#opts.labelSelector,
        fieldSelector: this.#opts.fieldSelector,
        resourceVersion: this.#lastResourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: Math.round(min + this.#random() * (max - min)),
        signal: ac.signal,
      });
      for await (const ev of stream) {
        arm();
        const rv = ev.object?.metadata?.resourceVersion;
        if (ev.type !== 'BOOKMARK') {
          events++;
          this.#sink.event(ev.type, ev.object);
        }
        if (rv) this.#lastResourceVersion = rv;
      }
    } catch (err) {
      if (ac.signal.reason instanceof WatchIdleError) throw ac.signal.reason;
      throw err;
    } finally {
      if (timer !== undefined) this.#clock.clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
    // The client ends iteration quietly on abort; an idle abort must count as a failure.
    if (ac.signal.aborted && ac.signal.reason instanceof WatchIdleError) throw ac.signal.reason;
    return events;
  }

  #sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const done = (): void => {
        this.#clock.clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = this.#clock.setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
