/**
 * How queues and rate limiters tell items apart. Two items with the same key are the same
 * work: the queue holds one of them, and a limiter counts their failures together.
 */
export type KeyFunc<T> = (item: T) => string;

/**
 * The default key: a string is its own key; an object with a `name` (a reconcile `Request`,
 * or anything shaped like one) is `namespace/name` (or `name` alone when it has no
 * namespace), matching the cache's object keys; anything else is its JSON text. Pass your own
 * `keyOf` for items whose JSON is not canonical (e.g. objects whose property order varies).
 */
export function defaultKeyOf(item: unknown): string {
  if (typeof item === 'string') return item;
  if (item !== null && typeof item === 'object') {
    const o = item as { namespace?: unknown; name?: unknown };
    if (typeof o.name === 'string') {
      return typeof o.namespace === 'string' && o.namespace !== '' ? `${o.namespace}/${o.name}` : o.name;
    }
  }
  return JSON.stringify(item);
}
