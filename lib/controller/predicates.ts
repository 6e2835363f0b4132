import type { KubernetesObject } from '../client/object.js';
import type { ObjectEvent } from './events.js';

/**
 * Decides whether an event should enqueue anything. The change predicates below only judge
 * updates; creates and deletes pass them.
 */
export type Predicate<T extends KubernetesObject = KubernetesObject> = (event: ObjectEvent<T>) => boolean;

function sameRecord(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b ?? {}).length) return false;
  return ka.every((k) => a![k] === b?.[k]);
}

/**
 * Passes updates that change `metadata.generation`, i.e. the spec. Status-only updates are
 * filtered out. Do not use it for kinds without a generation (e.g. ConfigMaps): every update
 * would be filtered.
 */
export const generationChanged: Predicate = (e) =>
  e.type !== 'update' || e.old.metadata?.generation !== e.object.metadata?.generation;

/** Passes updates that change labels. */
export const labelsChanged: Predicate = (e) =>
  e.type !== 'update' || !sameRecord(e.old.metadata?.labels, e.object.metadata?.labels);

/** Passes updates that change annotations. */
export const annotationsChanged: Predicate = (e) =>
  e.type !== 'update' || !sameRecord(e.old.metadata?.annotations, e.object.metadata?.annotations);

/** Passes updates that change `metadata.resourceVersion`: drops resyncs, where nothing changed. */
export const resourceVersionChanged: Predicate = (e) =>
  e.type !== 'update' || e.old.metadata?.resourceVersion !== e.object.metadata?.resourceVersion;

/** A predicate that passes when all of `ps` pass. */
export function and<T extends KubernetesObject>(...ps: Predicate<T>[]): Predicate<T> {
  return (e) => ps.every((p) => p(e));
}

/** A predicate that passes when any of `ps` passes. */
export function or<T extends KubernetesObject>(...ps: Predicate<T>[]): Predicate<T> {
  return (e) => ps.some((p) => p(e));
}

/** A predicate that passes when `p` does not. */
export function not<T extends KubernetesObject>(p: Predicate<T>): Predicate<T> {
  return (e) => !p(e);
}
