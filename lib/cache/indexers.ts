import type { KubernetesObject } from '../client/object.js';
import { controllerOf } from '../client/object.js';
import type { IndexFunc } from './store.js';

/** Index of objects by namespace ('' for cluster-scoped objects). Every informer has it. */
export const NAMESPACE_INDEX = 'namespace';
/** Index of objects by the uid of their controller owner reference. Every informer has it. */
export const CONTROLLER_OWNER_INDEX = 'controllerOwnerUID';
/** Index name prefix for user field indexes registered through `indexField`. */
export const FIELD_INDEX_PREFIX = 'field:';
/** Index name prefix for label indexes registered through `indexLabel`. */
export const LABEL_INDEX_PREFIX = 'label:';

/** Indexes objects by namespace ('' for cluster-scoped), under `NAMESPACE_INDEX`. */
export const namespaceIndexFunc: IndexFunc = (obj) => [obj.metadata?.namespace ?? ''];

/** Indexes objects by their controller owner's uid, under `CONTROLLER_OWNER_INDEX`. */
export const controllerOwnerIndexFunc: IndexFunc = (obj) => {
  // The API server requires a uid on every owner reference; an object made by hand (a test's
  // fake) may lack one, and has no owner to be found by then.
  const uid = controllerOf(obj)?.uid;
  return typeof uid === 'string' && uid !== '' ? [uid] : [];
};

// Field index values are stored twice, namespaced and not, so that a namespaced lookup is one
// map access instead of an intersection (controller-runtime does the same).
const ALL_NAMESPACES = '__all_namespaces';

/** The stored value for a field index lookup in `namespace` (or across all namespaces). */
export function fieldIndexValue(namespace: string | undefined, value: string): string {
  return `${namespace || ALL_NAMESPACES}/${value}`;
}

/** Wraps a user's field extractor into an index function with namespaced and global values. */
export function fieldIndexFunc<T extends KubernetesObject>(extract: (obj: T) => string[]): IndexFunc<T> {
  return (obj) => {
    const values = extract(obj);
    const ns = obj.metadata?.namespace;
    const out = values.map((v) => fieldIndexValue(undefined, v));
    if (ns) for (const v of values) out.push(fieldIndexValue(ns, v));
    return out;
  };
}

/**
 * Indexes objects by the value of label `key` (none when unlabelled), across namespaces: one
 * entry per object. A namespaced lookup filters the few objects that share the value.
 */
export function labelIndexFunc<T extends KubernetesObject>(key: string): IndexFunc<T> {
  return (obj) => {
    const v = obj.metadata?.labels?.[key];
    return typeof v === 'string' ? [v] : [];
  };
}
