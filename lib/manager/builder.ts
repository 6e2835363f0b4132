import type { InformerCache, InformerRequest } from '../cache/informer-cache.js';
import type { HandlerRegistration } from '../cache/handlers.js';
import type { SharedInformer } from '../cache/informer.js';
import type { GVK } from '../client/gvk.js';
import type { KubernetesObject } from '../client/object.js';
import { Controller, type ControllerOptions } from '../controller/controller.js';
import type { ObjectEvent } from '../controller/events.js';
import {
  enqueueForObject,
  enqueueForOwner,
  type EventHandlerFunc,
  priorityOf,
} from '../controller/handlers.js';
import type { Predicate } from '../controller/predicates.js';
import type { Reconciler } from '../controller/types.js';

/** Options of one watch of a `ControllerBuilder`: predicates, and which informer serves it. */
export interface BuilderWatchOptions {
  /** Events of this watch pass only if every predicate passes (besides the builder's filters). */
  predicates?: Predicate[];
  /** Which objects the informer holds (namespaces, selectors). */
  informer?: InformerRequest;
}

interface Watch {
  gvk: GVK;
  handler: EventHandlerFunc;
  opts: BuilderWatchOptions;
}

/** Options the builder passes through to the `Controller` (reconciler-facing ones). */
export type BuilderOptions = Pick<
  ControllerOptions,
  | 'maxConcurrentReconciles'
  | 'rateLimiter'
  | 'reconcileTimeoutMs'
  | 'recoverPanic'
  | 'maxPriorityWaitMs'
  | 'cacheSyncTimeoutMs'
>;

/** What the Manager gives a builder. */
export interface BuilderHost {
  cache: InformerCache;
  controllerDefaults: Omit<ControllerOptions, keyof BuilderOptions>;
  /** `informers` are the ones the controller's watches read, which must sync before it starts. */
  addController(
    c: Controller,
    watch: (c: Controller) => HandlerRegistration[],
    informers: SharedInformer[],
  ): void;
}

/**
 * Declares a controller the way controller-runtime's builder does:
 *
 *     mgr.controller('session').for(SESSION_GVK).owns(JOB_GVK)
 *        .withOptions({ maxConcurrentReconciles: 10 }).complete(reconciler)
 *
 * `for` names the reconciled kind (events enqueue the object itself); `owns` enqueues the
 * controller owner of objects of a kind; `watches` takes any handler. The watches are
 * registered when the controller starts (after leader election), so a follower's queue stays
 * empty; the informers themselves run on every replica so that a new leader starts warm.
 */
export class ControllerBuilder {
  readonly #name: string;
  readonly #host: BuilderHost;
  #for: GVK | undefined;
  readonly #watches: Watch[] = [];
  readonly #filters: Predicate[] = [];
  #options: BuilderOptions = {};
  #completed = false;

  /** Made by `Manager.controller(name)`. @internal */
  constructor(name: string, host: BuilderHost) {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
      throw new RangeError(
        `controller name "${name}" must be lower-case alphanumerics and '-' (it is a metrics label)`,
      );
    }
    this.#name = name;
    this.#host = host;
  }

  /** The reconciled kind: its events enqueue the object itself. */
  for(gvk: GVK, opts: BuilderWatchOptions = {}): this {
    if (this.#for !== undefined) throw new Error(`controller ${this.#name}: for() was already called`);
    this.#for = gvk;
    this.#watches.push({ gvk, handler: enqueueForObject(), opts });
    return this;
  }

  /**
   * A kind this controller creates: its events enqueue the object's controller owner of the `for`
   * kind.
   */
  owns(gvk: GVK, opts: BuilderWatchOptions = {}): this {
    if (this.#for === undefined) throw new Error(`controller ${this.#name}: call for() before owns()`);
    this.#watches.push({ gvk, handler: enqueueForOwner(this.#for), opts });
    return this;
  }

  /** Any other kind, with a handler mapping its events to requests. */
  watches(gvk: GVK, handler: EventHandlerFunc, opts: BuilderWatchOptions = {}): this {
    this.#watches.push({ gvk, handler, opts });
    return this;
  }

  /** A predicate every watch of this controller applies. */
  withEventFilter(predicate: Predicate): this {
    this.#filters.push(predicate);
    return this;
  }

  /** Workers, rate limiter, reconcile timeout and the rest of `ControllerOptions`. */
  withOptions(options: BuilderOptions): this {
    this.#options = { ...this.#options, ...options };
    return this;
  }

  /** Creates the controller; it starts with the Manager (on the leader). */
  complete(reconciler: Reconciler): Controller {
    if (this.#completed) throw new Error(`controller ${this.#name}: complete() was already called`);
    if (this.#watches.length === 0)
      throw new Error(`controller ${this.#name}: nothing to watch; call for() or watches()`);
    this.#completed = true;
    const controller = new Controller(this.#name, reconciler, {
      ...this.#host.controllerDefaults,
      ...this.#options,
    });
    // Create the informers now so the cache starts (and syncs) them with the others.
    const informers = this.#watches.map((w) => this.#host.cache.informerFor(w.gvk, w.opts.informer));
    this.#host.addController(
      controller,
      (c) =>
        this.#watches.map((w, i) => {
          const predicates = [...this.#filters, ...(w.opts.predicates ?? [])];
          const dispatch = (e: ObjectEvent) => {
            for (const p of predicates) if (!p(e)) return;
            const priority = priorityOf(e);
            for (const req of w.handler(e)) c.enqueue(req, priority);
          };
          return informers[i]!.addEventHandler({
            onAdd: (object: KubernetesObject, info) =>
              dispatch({ type: 'create', object, isInInitialList: info.isInInitialList }),
            onUpdate: (old: KubernetesObject, object: KubernetesObject, info) =>
              dispatch({ type: 'update', old, object, isResync: info.isResync }),
            onDelete: (object: KubernetesObject, info) =>
              dispatch({ type: 'delete', object, finalStateUnknown: info.finalStateUnknown }),
          });
        }),
      informers,
    );
    return controller;
  }
}
