import type { ListerWatcher } from '../client/client.js';
import type { GVK } from '../client/gvk.js';
import { gvkString } from '../client/gvk.js';
import type { KubernetesObject } from '../client/object.js';
import type { FieldSelectorInput, LabelSelectorInput } from '../client/selectors.js';
import type { Clock, Timer } from '../util/clock.js';
import { realClock } from '../util/clock.js';
import { ReconnectBackoff } from './backoff.js';
import type { AddInfo, DeleteInfo, EventHandler, HandlerRegistration, UpdateInfo } from './handlers.js';
import {
  CONTROLLER_OWNER_INDEX,
  NAMESPACE_INDEX,
  controllerOwnerIndexFunc,
  namespaceIndexFunc,
} from './indexers.js';
import type { Logger } from '../log/logger.js';
import { silentLogger } from '../log/logger.js';
import type { InformerMetrics } from './metrics.js';
import type { ReflectorOptions, ReflectorSink, RestartReason } from './reflector.js';
import { Reflector } from './reflector.js';
import { checkReflectorTuning } from './reflector-tuning.js';
import { checkNumber } from '../util/options.js';
import type { IndexFunc, IndexFunctionError } from './store.js';
import { Store, storeKeyOf } from './store.js';
import type { Transform } from './transform.js';
import { deepFreeze, dropManagedFields } from './transform.js';

/** The read side of an informer's store. Objects are frozen; copy before modifying. */
export type ReadonlyStore<T extends KubernetesObject> = Pick<
  Store<T>,
  'get' | 'has' | 'list' | 'keys' | 'values' | 'byIndex' | 'indexKeys' | 'hasIndexer' | 'size'
>;

/** Reflector tuning an informer passes through. */
export type ReflectorTuning = Pick<
  ReflectorOptions,
  'pageSize' | 'backoff' | 'watchIdleTimeoutMs' | 'watchTimeoutSeconds' | 'minWatchDurationMs'
>;

/** Options of `SharedInformer`: what to watch, how to store it, how to reconnect. */
export interface InformerOptions<T extends KubernetesObject = KubernetesObject> {
  gvk: GVK;
  /** Namespaces to watch, one watch each; omitted or empty watches all namespaces with one watch. */
  namespaces?: string[];
  labelSelector?: LabelSelectorInput;
  fieldSelector?: FieldSelectorInput;
  /**
   * How often every cached object is re-delivered as an update with `isResync`, jittered by up
   * to +10 % so that informers do not resync in step. Default 10 hours; 0 disables.
   */
  resyncPeriodMs?: number;
  /**
   * Applied before storing. Default `dropManagedFields`; `false` stores objects as received.
   * If it throws, that version of the object is not cached nor dispatched (the cache keeps the
   * version it had, if any, and the next event for the object tries again; a delete still
   * deletes); the failure is counted and logged once per object.
   */
  transform?: Transform | false;
  /**
   * Extra indexes; the namespace and controller-owner indexes are always present. If an index
   * function throws, the object is cached and dispatched all the same, without values in that
   * index, until a version of it indexes cleanly; the failure is counted and logged once per
   * object.
   */
  indexers?: Record<string, IndexFunc<T>>;
  /** Whether the kind is namespaced; when it resolves false, `namespaces` is ignored. */
  isNamespaced?: () => Promise<boolean>;
  reflector?: ReflectorTuning;
  clock?: Clock;
  /** Jitter source, for tests. Default `Math.random`. */
  random?: () => number;
  logger?: Logger;
  metrics?: InformerMetrics;
}

/** Counters kept by every informer, whether or not metrics are registered. */
export interface InformerStats {
  handlerErrors: number;
  /** Object versions the transform threw for (not cached). */
  transformErrors: number;
  /** Index function failures (the object was cached without values in that index). */
  indexErrors: number;
  lists: number;
  watchRestarts: Record<RestartReason, number>;
}

interface Registration<T extends KubernetesObject> {
  handler: EventHandler<T>;
  active: boolean;
}

/**
 * One shared cache of one kind (with one selector and namespace set): reflectors feed a store,
 * and every change is dispatched to the registered handlers with the old and new object.
 *
 * Copy rule: the informer freezes every object it stores (`deepFreeze`), hands out those same
 * frozen objects to handlers and readers, and replaces rather than modifies them on change. An
 * object a caller holds therefore never changes under it; modifying one throws a TypeError.
 */
export class SharedInformer<T extends KubernetesObject = KubernetesObject> {
  readonly gvk: GVK;
  readonly namespaces: readonly string[];
  readonly labelSelector: LabelSelectorInput | undefined;
  readonly fieldSelector: FieldSelectorInput | undefined;
  #lw: ListerWatcher;
  #opts: InformerOptions<T>;
  #store: Store<T>;
  #transform: Transform;
  #clock: Clock;
  #random: () => number;
  #logger: Logger;
  #registrations: Registration<T>[] = [];
  #reflectors: Reflector<T>[] = [];
  // Scopes (namespace, or '' for all) whose first list has been stored.
  #listedScopes = new Set<string>();
  #scopeCount = 1;
  #syncWaiters: Array<() => void> = [];
  #running = false;
  #clusterScoped: boolean | undefined;
  // Keys whose latest version failed to transform, and keys whose stored version failed to
  // index (with the indexes that failed): a failure is logged when a key starts failing, not on
  // every event while it goes on.
  #transformFailing = new Set<string>();
  #indexFailing = new Map<string, Set<string>>();
  // Index failures reported by the store during the set() in progress.
  #indexFailures: IndexFunctionError[] = [];
  #scopeError: unknown;
  #stats: InformerStats = {
    handlerErrors: 0,
    transformErrors: 0,
    indexErrors: 0,
    lists: 0,
    watchRestarts: { closed: 0, gone: 0, idle: 0, error: 0 },
  };
  #gvkLabel: string;

  constructor(lw: ListerWatcher, opts: InformerOptions<T>) {
    checkNumber('SharedInformer', 'resyncPeriodMs', opts.resyncPeriodMs);
    checkReflectorTuning('SharedInformer', opts.reflector ?? {}, 'reflector.');
    this.gvk = opts.gvk;
    this.namespaces = [...new Set(opts.namespaces ?? [])].sort();
    this.labelSelector = opts.labelSelector;
    this.fieldSelector = opts.fieldSelector;
    this.#lw = lw;
    this.#opts = opts;
    this.#transform = opts.transform === false ? (o) => o : (opts.transform ?? dropManagedFields);
    this.#clock = opts.clock ?? realClock;
    this.#random = opts.random ?? Math.random;
    this.#logger = opts.logger ?? silentLogger();
    this.#gvkLabel = gvkString(opts.gvk);
    this.#store = new Store<T>(
      {
        [NAMESPACE_INDEX]: namespaceIndexFunc,
        [CONTROLLER_OWNER_INDEX]: controllerOwnerIndexFunc,
        ...opts.indexers,
      },
      { onIndexError: (err) => void this.#indexFailures.push(err) },
    );
  }

  /** The cached objects. */
  get store(): ReadonlyStore<T> {
    return this.#store;
  }

  get stats(): Readonly<InformerStats> {
    return this.#stats;
  }

  /**
   * Whether the kind turned out to be cluster-scoped (so `namespaces` does not apply); undefined
   * until the informer has started and, if it had to, asked the server.
   */
  get clusterScoped(): boolean | undefined {
    return this.#clusterScoped;
  }

  /** Adds an index; allowed before or after start (it is built over the current contents). */
  addIndexer(name: string, fn: IndexFunc<T>): void {
    this.#store.addIndexer(name, fn);
    for (const err of this.#indexFailures.splice(0)) {
      const failing = this.#indexFailing.get(err.key) ?? new Set<string>();
      this.#indexFailing.set(err.key, failing.add(err.index));
      this.#indexFailed(err, true);
    }
  }

  /** True once every watched namespace has been listed. */
  hasSynced(): boolean {
    return this.#listedScopes.size >= this.#scopeCount && this.#reflectors.length > 0;
  }

  /**
   * Why the informer has not synced yet: the last error listing it (or resolving its kind's
   * scope), undefined once synced or while no attempt has failed.
   */
  syncError(): unknown {
    if (this.hasSynced()) return undefined;
    if (this.#scopeError !== undefined) return this.#scopeError;
    return this.#reflectors.find((r) => r.lastError !== undefined)?.lastError;
  }

  /** Resolves true once synced, or false if `signal` aborts first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.hasSynced()) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const onAbort = (): void => resolve(false);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#syncWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      });
    });
  }

  /**
   * Registers a handler. Objects already cached are delivered to it at once, synchronously, as
   * adds with `isInInitialList`, so a late handler sees the same picture as an early one.
   */
  addEventHandler(handler: EventHandler<T>): HandlerRegistration {
    const reg: Registration<T> = { handler, active: true };
    for (const obj of this.#store.values()) this.#call(() => handler.onAdd?.(obj, { isInInitialList: true }));
    this.#registrations.push(reg);
    return {
      hasSynced: () => reg.active && this.hasSynced(),
      remove: () => {
        reg.active = false;
        this.#registrations = this.#registrations.filter((r) => r !== reg);
      },
    };
  }

  /** The resourceVersion the first reflector last saw ('' before the first list). */
  get lastSyncResourceVersion(): string {
    return this.#reflectors[0]?.lastResourceVersion ?? '';
  }

  /** Runs until `signal` aborts; never rejects. Call once. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.#running) throw new Error(`informer for ${this.#gvkLabel} is already running`);
    this.#running = true;
    const scopes = await this.#scopes(signal);
    if (signal.aborted) return;
    this.#scopeCount = scopes.length;
    const tuning = this.#opts.reflector ?? {};
    this.#reflectors = scopes.map(
      (ns) =>
        new Reflector<T>(this.#lw, this.#sinkFor(ns ?? ''), {
          ...tuning,
          gvk: this.gvk,
          namespace: ns,
          labelSelector: this.labelSelector,
          fieldSelector: this.fieldSelector,
          clock: this.#clock,
          random: this.#random,
          logger: this.#logger,
          onList: () => {
            this.#stats.lists++;
            this.#opts.metrics?.lists.inc({ gvk: this.#gvkLabel });
          },
          onRestart: (reason) => {
            this.#stats.watchRestarts[reason]++;
            this.#opts.metrics?.watchRestarts.inc({ gvk: this.#gvkLabel, reason });
          },
        }),
    );
    const stopResync = this.#startResync();
    try {
      await Promise.all(this.#reflectors.map((r) => r.run(signal)));
    } finally {
      stopResync();
    }
  }

  // One reflector per namespace, or a single cluster-wide one. Asking whether the kind is
  // namespaced can fail while the server is down; the informer keeps asking rather than stop.
  async #scopes(signal: AbortSignal): Promise<Array<string | undefined>> {
    if (this.namespaces.length === 0 || !this.#opts.isNamespaced) {
      this.#clusterScoped = this.namespaces.length === 0 ? undefined : false;
      return this.namespaces.length === 0 ? [undefined] : [...this.namespaces];
    }
    const backoff = new ReconnectBackoff(this.#clock, this.#opts.reflector?.backoff, this.#random);
    while (!signal.aborted) {
      try {
        this.#clusterScoped = !(await this.#opts.isNamespaced());
        this.#scopeError = undefined;
        return this.#clusterScoped ? [undefined] : [...this.namespaces];
      } catch (err) {
        this.#scopeError = err;
        const delay = backoff.next();
        this.#logger.warn('cannot resolve kind scope, retrying', {
          gvk: this.#gvkLabel,
          error: err,
          retryInMs: delay,
        });
        await new Promise<void>((resolve) => {
          const t = this.#clock.setTimeout(resolve, delay);
          signal.addEventListener('abort', () => (this.#clock.clearTimeout(t), resolve()), { once: true });
        });
      }
    }
    return [];
  }

  #sinkFor(scope: string): ReflectorSink<T> {
    return {
      replace: (items) => this.#replace(scope, items),
      event: (type, raw) => this.#event(type, raw),
    };
  }

  /** The object to cache for `raw` (stored under `key`), or undefined if the transform threw. */
  #prepare(raw: T, key: string): T | undefined {
    let obj: T;
    try {
      obj = this.#transform(raw);
      if (obj === null || typeof obj !== 'object') throw new TypeError(`transform returned ${String(obj)}`);
    } catch (err) {
      this.#stats.transformErrors++;
      this.#opts.metrics?.transformErrors.inc({ gvk: this.#gvkLabel });
      if (!this.#transformFailing.has(key)) {
        this.#transformFailing.add(key);
        this.#logger.error('informer transform failed; this version of the object is not cached', {
          gvk: this.#gvkLabel,
          key,
          resourceVersion: raw.metadata?.resourceVersion,
          error: err,
        });
      }
      return undefined;
    }
    if (this.#transformFailing.size > 0) this.#transformFailing.delete(key);
    return deepFreeze(obj);
  }

  /** Stores an object; index functions that throw are counted and logged once per object. */
  #put(key: string, obj: T): T | undefined {
    const old = this.#store.set(key, obj);
    if (this.#indexFailures.length === 0 && this.#indexFailing.size === 0) return old;
    const failures = this.#indexFailures.splice(0);
    const before = this.#indexFailing.get(key);
    for (const err of failures) this.#indexFailed(err, !before?.has(err.index));
    if (failures.length > 0) this.#indexFailing.set(key, new Set(failures.map((e) => e.index)));
    else this.#indexFailing.delete(key);
    return old;
  }

  #remove(key: string): T | undefined {
    if (this.#indexFailing.size > 0) this.#indexFailing.delete(key);
    if (this.#transformFailing.size > 0) this.#transformFailing.delete(key);
    return this.#store.delete(key);
  }

  #indexFailed(err: IndexFunctionError, log: boolean): void {
    this.#stats.indexErrors++;
    this.#opts.metrics?.indexErrors.inc({ gvk: this.#gvkLabel, index: err.index });
    if (!log) return;
    this.#logger.error('informer index function failed; the object is cached without values in this index', {
      gvk: this.#gvkLabel,
      key: err.key,
      index: err.index,
      error: err.cause,
    });
  }

  #replace(scope: string, items: T[]): void {
    const initial = !this.#listedScopes.has(scope);
    const seen = new Set<string>();
    for (const raw of items) {
      const key = storeKeyOf(raw);
      // Seen even when it cannot be transformed: the version cached before is kept, not deleted.
      seen.add(key);
      const obj = this.#prepare(raw, key);
      if (obj === undefined) continue;
      const old = this.#put(key, obj);
      if (old === undefined) this.#dispatchAdd(obj, { isInInitialList: initial });
      else if (old.metadata?.uid !== obj.metadata?.uid) {
        // Deleted and re-created under the same name while we were not watching: two objects,
        // not one that changed.
        this.#dispatchDelete(old, { finalStateUnknown: true });
        this.#dispatchAdd(obj, { isInInitialList: false });
      } else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
        this.#dispatchUpdate(old, obj, { isResync: false });
      }
    }
    const inScope = scope === '' ? this.#store.keys() : this.#store.indexKeys(NAMESPACE_INDEX, scope);
    for (const key of inScope) {
      if (seen.has(key)) continue;
      const gone = this.#remove(key)!;
      this.#dispatchDelete(gone, { finalStateUnknown: true });
    }
    if (initial) {
      this.#listedScopes.add(scope);
      if (this.hasSynced()) for (const wake of this.#syncWaiters.splice(0)) wake();
    }
  }

  #event(type: 'ADDED' | 'MODIFIED' | 'DELETED', raw: T): void {
    const key = storeKeyOf(raw);
    const obj = this.#prepare(raw, key);
    if (type === 'DELETED') {
      const old = this.#remove(key);
      if (obj !== undefined) this.#dispatchDelete(obj, { finalStateUnknown: false });
      // Its final state could not be transformed: handlers get the last state cached.
      else if (old !== undefined) this.#dispatchDelete(old, { finalStateUnknown: true });
      return;
    }
    if (obj === undefined) return;
    const old = this.#put(key, obj);
    if (old === undefined) this.#dispatchAdd(obj, { isInInitialList: false });
    else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
      this.#dispatchUpdate(old, obj, { isResync: false });
    }
  }

  #startResync(): () => void {
    const period = this.#opts.resyncPeriodMs ?? 10 * 60 * 60 * 1000;
    if (period <= 0) return () => {};
    let timer: Timer | undefined;
    const arm = (): void => {
      timer = this.#clock.setTimeout(
        () => {
          if (this.hasSynced()) {
            for (const obj of this.#store.values()) this.#dispatchUpdate(obj, obj, { isResync: true });
          }
          arm();
        },
        period * (1 + 0.1 * this.#random()),
      );
    };
    arm();
    return () => {
      if (timer !== undefined) this.#clock.clearTimeout(timer);
    };
  }

  #dispatchAdd(obj: T, info: AddInfo): void {
    for (const r of this.#registrations) if (r.active) this.#call(() => r.handler.onAdd?.(obj, info));
  }

  #dispatchUpdate(oldObj: T, newObj: T, info: UpdateInfo): void {
    for (const r of this.#registrations)
      if (r.active) this.#call(() => r.handler.onUpdate?.(oldObj, newObj, info));
  }

  #dispatchDelete(obj: T, info: DeleteInfo): void {
    for (const r of this.#registrations) if (r.active) this.#call(() => r.handler.onDelete?.(obj, info));
  }

  // A handler's failure must not reach the reflector (which would treat it as a broken watch)
  // nor become an unhandled rejection (which can end the process).
  #call(fn: () => void | Promise<void>): void {
    try {
      const result = fn();
      if (result && typeof (result as Promise<void>).then === 'function') {
        (result as Promise<void>).then(undefined, (err: unknown) => this.#handlerFailed(err));
      }
    } catch (err) {
      this.#handlerFailed(err);
    }
  }

  #handlerFailed(err: unknown): void {
    this.#stats.handlerErrors++;
    this.#opts.metrics?.handlerErrors.inc({ gvk: this.#gvkLabel });
    this.#logger.error('informer event handler failed', {
      gvk: this.#gvkLabel,
      error: err,
    });
  }
}
