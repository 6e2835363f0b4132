import type { GVK } from '../client/gvk.js';
import { parseApiVersion } from '../client/gvk.js';
import type { KubernetesObject } from '../client/object.js';
import { LOW_PRIORITY } from '../workqueue/queue.js';
import type { ObjectEvent } from './events.js';
import type { Request } from './types.js';

/** Turns an event into the requests to enqueue. */
export type EventHandlerFunc<T extends KubernetesObject = KubernetesObject> = (
  event: ObjectEvent<T>,
) => Request[];

function requestFor(obj: KubernetesObject): Request[] {
  const name = obj.metadata?.name;
  if (!name) return [];
  const namespace = obj.metadata?.namespace;
  return [namespace ? { namespace, name } : { name }];
}

/** Enqueues the object itself (what `for()` uses). */
export function enqueueForObject(): EventHandlerFunc {
  return (e) => requestFor(e.object);
}

/** Options of `enqueueForOwner`. */
export interface OwnerOptions {
  /** Only the owner reference with `controller: true`. Default true (what `owns()` uses). */
  onlyController?: boolean;
}

/**
 * Enqueues the object's owner of kind `owner` (namespaced owners share the object's namespace,
 * as owner references require). Objects without such an owner enqueue nothing. On an update
 * it enqueues the owners of the old object and of the new one, each once (controller-runtime's
 * `EnqueueRequestForOwner`), so an owner that loses an object to another owner hears of it.
 */
export function enqueueForOwner(
  owner: Pick<GVK, 'group' | 'kind'>,
  opts: OwnerOptions = {},
): EventHandlerFunc {
  const onlyController = opts.onlyController ?? true;
  const ownersOf = (obj: KubernetesObject, out: Request[], seen: Set<string>): void => {
    const namespace = obj.metadata?.namespace;
    for (const ref of obj.metadata?.ownerReferences ?? []) {
      if (onlyController && !ref.controller) continue;
      if (ref.kind !== owner.kind || parseApiVersion(ref.apiVersion).group !== owner.group) continue;
      const key = `${namespace ?? ''}/${ref.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(namespace ? { namespace, name: ref.name } : { name: ref.name });
    }
  };
  return (e) => {
    const out: Request[] = [];
    const seen = new Set<string>();
    if (e.type === 'update') ownersOf(e.old, out, seen);
    ownersOf(e.object, out, seen);
    return out;
  };
}

/** Enqueues whatever `map` returns for the object: for relations that are not ownership. */
export function enqueueFromMap<T extends KubernetesObject = KubernetesObject>(
  map: (obj: T) => Request[],
): EventHandlerFunc<T> {
  return (e) => map(e.object);
}

/**
 * The queue priority of an event: the initial list and resyncs are low priority, so a restart
 * (which lists everything) does not starve events about objects that just changed.
 */
export function priorityOf(e: ObjectEvent): number {
  if (e.type === 'create' && e.isInInitialList) return LOW_PRIORITY;
  if (e.type === 'update' && e.isResync) return LOW_PRIORITY;
  return 0;
}
