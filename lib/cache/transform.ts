import type { KubernetesObject } from '../client/object.js';

/**
 * Applied to every object before it is stored. It receives an object the cache owns (freshly
 * decoded, not yet shared) and may modify it in place or return a new one. Keep it cheap: it
 * runs for every event.
 */
export type Transform = <T extends KubernetesObject>(obj: T) => T;

/**
 * `obj` without the properties `keys`, as a new object; `obj` itself if it has none of them.
 * Rebuilt rather than `delete`d: deleting a property turns a V8 object into a hash table
 * (dictionary mode), which takes about twice the memory and is slower to read — for a cache of
 * thousands of objects, megabytes of heap and more work for every garbage collection.
 */
export function withoutKeys<T extends object>(obj: T, keys: readonly string[]): T {
  if (!keys.some((k) => Object.hasOwn(obj, k))) return obj;
  const src = obj as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  // for…in rather than Object.entries: no array of pairs per object (this runs for every event).
  for (const k in src) if (Object.hasOwn(src, k) && !keys.includes(k)) out[k] = src[k];
  return out as T;
}

/**
 * The default transform: drops `metadata.managedFields`, which is server-side apply bookkeeping
 * that controllers rarely read and that is often the largest part of an object.
 */
export const dropManagedFields: Transform = (obj) => {
  if (obj.metadata?.managedFields !== undefined) obj.metadata = withoutKeys(obj.metadata, ['managedFields']);
  return obj;
};

/** Leaves objects as the server sent them. */
export const identityTransform: Transform = (obj) => obj;

/**
 * Freezes an object and everything reachable from it. The cache freezes what it stores so that
 * the objects it hands to handlers and readers can be shared without copies: a caller that
 * tries to modify one gets a TypeError (in strict mode, i.e. in every ES module) instead of
 * silently corrupting the cache. Copy with `structuredClone` before modifying.
 */
export function deepFreeze<T>(value: T): T {
  // An explicit stack, not recursion: the API server stores objects nested thousands of levels
  // deep (a Session's free-form input), which would overflow the call stack.
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== 'object' || Object.isFrozen(v)) continue;
    Object.freeze(v);
    for (const key of Object.keys(v)) stack.push((v as Record<string, unknown>)[key]);
  }
  return value;
}
