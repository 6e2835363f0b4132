import type { KubernetesObject } from '../client/object.js';

/** What an informer says about an add. */
export interface AddInfo {
  /**
   * True when the add comes from the informer's initial list, or from the replay of existing
   * objects to a handler registered after the informer started. The controller layer queues
   * these at low priority so that a restart does not starve fresh events.
   */
  isInInitialList: boolean;
}

/** What an informer says about an update. */
export interface UpdateInfo {
  /** True for the periodic resync, where old and new are the same object. */
  isResync: boolean;
}

/** What an informer says about a delete. */
export interface DeleteInfo {
  /**
   * True when the deletion was inferred by a re-list (the object was gone after a watch gap);
   * the object given is then the last state the cache saw, which may be older than the state
   * the object had when it was deleted.
   */
  finalStateUnknown: boolean;
}

/**
 * Callbacks for an informer's events. Handlers run synchronously in event order, so they must
 * be quick: put a key on a queue, do not reconcile. A handler that throws (or returns a promise
 * that rejects) is logged and counted; the informer and the other handlers carry on.
 * Objects are frozen and shared: copy with `structuredClone` before modifying.
 */
export interface EventHandler<T extends KubernetesObject = KubernetesObject> {
  /** An object appeared (or was listed). */
  onAdd?(obj: T, info: AddInfo): void | Promise<void>;
  /** An object changed, or is re-delivered by a resync (`info.isResync`). */
  onUpdate?(oldObj: T, newObj: T, info: UpdateInfo): void | Promise<void>;
  /** An object was deleted; `obj` is its last known state. */
  onDelete?(obj: T, info: DeleteInfo): void | Promise<void>;
}

/** A handler's registration on an informer, returned by `addEventHandler`. */
export interface HandlerRegistration {
  /** True once the handler has been given every object of the informer's initial list. */
  hasSynced(): boolean;
  /** Stops delivering events to the handler. */
  remove(): void;
}
